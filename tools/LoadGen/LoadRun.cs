using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Voting.LoadGen.Auditing;
using Voting.LoadGen.Measuring;
using Voting.LoadGen.Receipts;
using Voting.LoadGen.Voters;

namespace Voting.LoadGen;

/// <summary>
/// A load run: simulated voters vote through the front ends (bounded by the number of voters and the duration), then
/// the audit waits for the pipeline to drain and checks every acknowledged vote against PostgreSQL.
/// </summary>
public static class LoadRun
{
    /// <inheritdoc cref="RunAsync(LoadOptions, TextWriter, CancellationToken, CancellationToken)"/>
    public static Task<LoadReport> RunAsync(LoadOptions options, TextWriter output, CancellationToken cancellationToken) =>
        RunAsync(options, output, CancellationToken.None, cancellationToken);

    /// <summary>Runs the load, then the drain and audit (when <see cref="LoadOptions.Postgres"/> is set).</summary>
    /// <param name="options">What to run; must be valid (<see cref="LoadOptions.Validate"/>).</param>
    /// <param name="output">Receives the progress lines and the findings.</param>
    /// <param name="stopSending">Stops sending votes early (like the duration running out); the audit still runs.</param>
    /// <param name="cancellationToken">Abandons the run: requests in flight are cancelled, nothing is audited.</param>
    /// <exception cref="LoadRunException">The run could not start (no front end answers, the audit cannot connect).</exception>
    public static async Task<LoadReport> RunAsync(LoadOptions options, TextWriter output, CancellationToken stopSending, CancellationToken cancellationToken)
    {
        if (options.Validate() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        // Before any vote: a run that cannot be audited would only be found out after the load.
        if (options.Postgres is { } postgres && await VoteAudit.ProblemReachingAsync(postgres, cancellationToken) is { } unreachable)
        {
            throw new LoadRunException($"The audit cannot read {PostgresAddress(postgres)}: {unreachable}");
        }

        using var http = VoteClient.CreateHttpClient(options);
        var requests = await VoteRequests.FetchAsync(http, options.Frontends, cancellationToken);
        await output.WriteLineAsync(Describe(options, requests));

        var counters = new LoadCounters();
        var latencies = new LoadLatencies();
        var truth = new GroundTruth(requests.Keys, options.Voters);
        var client = new VoteClient(http, requests, options.Frontends, counters, latencies);
        // The run's clock starts before the pacer's, so that no vote is ever paced earlier than the run's elapsed time says.
        var watch = Stopwatch.StartNew();
        var simulation = new VoterSimulation(options, requests, client, truth, new Pacer(options.Rate));

        using var sending = CancellationTokenSource.CreateLinkedTokenSource(stopSending, cancellationToken);
        sending.CancelAfter(options.Duration);
        var next = -1;
        var load = Task.WhenAll(Enumerable.Range(0, Math.Min(options.Concurrency, options.Voters)).Select(_ => Task.Run(async () =>
        {
            int index;
            while (!sending.IsCancellationRequested && (index = Interlocked.Increment(ref next)) < options.Voters)
            {
                await simulation.RunAsync(index, sending.Token, cancellationToken);
            }
        })));

        var progress = new ProgressLine(counters, latencies, () => simulation.Started, options.Voters);
        using (var timer = new PeriodicTimer(options.ProgressInterval))
        {
            while (await Task.WhenAny(load, timer.WaitForNextTickAsync(cancellationToken).AsTask()) != load)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await output.WriteLineAsync(progress.Next(watch.Elapsed));
            }
        }

        await load;
        var summary = LoadSummary.Create(options, counters, latencies, simulation.Started, watch.Elapsed, truth);
        await output.WriteLineAsync(ReportText.Load(summary));
        if (options.ReceiptsFile is { } receipts)
        {
            await ReceiptFile.WriteAsync(receipts, truth.Receipts(options.AddressOf), cancellationToken);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Receipts of {truth.Receipts(options.AddressOf).Count():N0} voters kept in {receipts} ({truth.VotesWithoutReceipt:N0} acknowledged votes came without a receipt code); check them once the poll is sealed and released: Voting.LoadGen receipts --receipts {receipts}"));
        }

        AuditReport? audit = null;
        if (options.Postgres is not null)
        {
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"Waiting for the pipeline to drain (at most {options.DrainTimeout.TotalSeconds:0.#} s), then auditing against PostgreSQL..."));
            audit = await AuditAsync(options, truth, summary, output, cancellationToken);
        }

        return new LoadReport(summary, truth, audit);
    }

    /// <summary>Only the drain and audit, for a ground truth already gathered (e.g. to audit again after a fault).</summary>
    public static Task<AuditReport> AuditAsync(LoadOptions options, GroundTruth truth, TextWriter output, CancellationToken cancellationToken) =>
        AuditAsync(options, truth, null, output, cancellationToken);

    private static async Task<AuditReport> AuditAsync(LoadOptions options, GroundTruth truth, LoadSummary? load, TextWriter output, CancellationToken cancellationToken)
    {
        try
        {
            var audit = await VoteAudit.RunAsync(options, truth, output, cancellationToken);
            await output.WriteLineAsync(ReportText.Audit(audit, load));
            return audit;
        }
        catch (NpgsqlException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LoadRunException($"The audit cannot read PostgreSQL ({PostgresAddress(options.Postgres)}): {e.Message}", e);
        }
    }

    private static string Describe(LoadOptions options, VoteRequests requests) => string.Create(CultureInfo.InvariantCulture,
        $"""
        Voting.LoadGen{(options.Scenario == LoadScenario.Stuffing ? " (stuffing: one client, its own address)" : $" (crowd: {options.VotersPerAddress:N0} voter(s) per simulated address in {SimulatedAddresses.Range})")}: {options.Voters:N0} voters over {options.Frontends.Count} front ends ({string.Join(", ", options.Frontends)}), concurrency {options.Concurrency}, {(options.Rate > 0 ? $"{options.Rate:N0} votes/s" : "as fast as possible")}, at most {options.Duration.TotalSeconds:0.#} s
          {(options.Scenario == LoadScenario.Stuffing ? "one JSON vote per identity" : $"changers {options.ChangeShare:P0}, double submitters {options.DoubleShare:P0}, form votes {options.FormShare:P0}")}, seed {options.Seed}; options {string.Join(", ", requests.Options.Select(o => $"{o.Key} ({o.Label})"))}
          audit: {(options.Postgres is null ? "none" : PostgresAddress(options.Postgres))}, results {options.Results?.ToString() ?? "not checked"}
        """);

    /// <summary>Where the database is, without the rest of the connection string (which may hold a password).</summary>
    private static string PostgresAddress(string? connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Several hosts (a primary and its standby) name their own ports.
        return builder.Host?.Contains(',', StringComparison.Ordinal) == true
            ? $"PostgreSQL {builder.Host}/{builder.Database}"
            : $"PostgreSQL {builder.Host}:{builder.Port.ToString(CultureInfo.InvariantCulture)}/{builder.Database}";
    }
}

/// <summary>The run could not be carried out (as opposed to an audit that found problems).</summary>
public sealed class LoadRunException : Exception
{
    public LoadRunException()
    {
    }

    public LoadRunException(string message)
        : base(message)
    {
    }

    public LoadRunException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
