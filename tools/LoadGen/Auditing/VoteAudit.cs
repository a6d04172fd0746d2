using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Voting.LoadGen.Voters;

namespace Voting.LoadGen.Auditing;

/// <summary>
/// Waits for the pipeline to drain, then checks the system's promise against PostgreSQL: every acknowledged voter of
/// this run has a row holding their latest acknowledged vote (or, for an uncertain voter, a vote whose fate was
/// unknown), and <c>tallies</c> equal <c>count(*)</c> of <c>votes</c> per option, read in one statement.
/// </summary>
/// <remarks>
/// The expectations go into a temporary table once (binary <c>COPY</c>); every reading is then one join in
/// PostgreSQL, also for millions of voters. Rows of earlier runs are left alone: only the tallies invariant is global.
/// </remarks>
internal static class VoteAudit
{
    private const string ExpectedTable = "loadgen_expected";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan StableFor = TimeSpan.FromMilliseconds(500);

    // Per voter of this run: lost, a wrong option, a wrong vote id, a row nobody was promised; "allowed" is an
    // unconfirmed vote's option, which may legitimately have become the final row.
    private const string StandingSql =
        $"""
        SELECT
            count(*) FILTER (WHERE e.option IS NOT NULL),
            count(*) FILTER (WHERE (v.option = e.option AND (e.vote_id IS NULL OR v.vote_id = e.vote_id)) OR v.option = ANY (e.unconfirmed)),
            count(*) FILTER (WHERE e.option IS NOT NULL AND v.voter_id IS NULL),
            count(*) FILTER (WHERE e.option IS NOT NULL AND v.option <> e.option AND NOT v.option = ANY (e.unconfirmed)),
            count(*) FILTER (WHERE v.option = e.option AND v.vote_id <> e.vote_id AND NOT v.option = ANY (e.unconfirmed)),
            count(*) FILTER (WHERE e.option IS NULL AND v.voter_id IS NOT NULL AND NOT v.option = ANY (e.unconfirmed)),
            count(*) FILTER (WHERE cardinality(e.unconfirmed) > 0),
            count(*) FILTER (WHERE cardinality(e.unconfirmed) > 0 AND v.voter_id IS NOT NULL
                             AND (v.option IS DISTINCT FROM e.option OR v.vote_id <> e.vote_id))
        FROM {ExpectedTable} e LEFT JOIN votes v ON v.voter_id = e.voter_id
        """;

    private const string ExamplesSql =
        $"""
        SELECT e.voter_id, e.option, e.vote_id, e.unconfirmed, v.option, v.vote_id, v.frontend_id, v.voted_at
        FROM {ExpectedTable} e LEFT JOIN votes v ON v.voter_id = e.voter_id
        WHERE (e.option IS NOT NULL AND v.voter_id IS NULL)
           OR (NOT v.option = ANY (e.unconfirmed) AND (v.option IS DISTINCT FROM e.option OR v.vote_id <> e.vote_id))
        ORDER BY e.voter_id
        LIMIT 10
        """;

    // One statement, so both sides come from the same snapshot even while drainers commit.
    private const string TalliesAndRowsSql =
        """
        SELECT 't', option, sum(count)::bigint FROM tallies GROUP BY option HAVING sum(count) <> 0
        UNION ALL
        SELECT 'r', option, count(*) FROM votes GROUP BY option
        """;

    private const string RunRowsSql = $"SELECT v.option, count(*) FROM {ExpectedTable} e JOIN votes v ON v.voter_id = e.voter_id GROUP BY v.option";

    /// <summary>Whether the audit will be able to read the votes database; null when it will, else why not.</summary>
    public static async Task<string?> ProblemReachingAsync(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await using var command = dataSource.CreateCommand("SELECT to_regclass('votes') IS NOT NULL AND to_regclass('tallies') IS NOT NULL");
            return await command.ExecuteScalarAsync(cancellationToken) is true
                ? null
                : "it has no 'votes' and 'tallies' tables (the worker silo or the results app creates them at start-up)";
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            return e.Message;
        }
    }

    /// <summary>Drains (bounded by <see cref="LoadOptions.DrainTimeout"/>) and audits; writes the drain's progress.</summary>
    public static async Task<AuditReport> RunAsync(LoadOptions options, GroundTruth truth, TextWriter output, CancellationToken cancellationToken)
    {
        var connectionString = options.Postgres ?? throw new ArgumentException("The audit needs a PostgreSQL connection string.", nameof(options));
        var watch = Stopwatch.StartNew();
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var connection = await ConnectAsync(dataSource, truth, options, watch, output, cancellationToken);
        try
        {
            var standing = await ReadStandingAsync(connection, cancellationToken);
            var settledSince = standing.Settled ? watch.Elapsed : (TimeSpan?)null;
            var nextProgress = options.ProgressInterval;
            while (!(standing.Settled && watch.Elapsed - settledSince >= StableFor) && watch.Elapsed < options.DrainTimeout)
            {
                if (watch.Elapsed >= nextProgress)
                {
                    await output.WriteLineAsync(standing.Describe(watch.Elapsed));
                    nextProgress += options.ProgressInterval;
                }

                await Task.Delay(PollInterval, cancellationToken);
                var previous = standing;
                try
                {
                    standing = await ReadStandingAsync(connection, cancellationToken);
                }
                catch (NpgsqlException e) when (IsUnavailable(e) && watch.Elapsed < options.DrainTimeout)
                {
                    // PostgreSQL restarted or failed over while the pipeline drained: this run's expectations were in the
                    // lost connection's temporary table; load them again on a new one.
                    await output.WriteLineAsync($"  the audit lost PostgreSQL ({e.Message}); connecting again");
                    await connection.DisposeAsync();
                    connection = await ConnectAsync(dataSource, truth, options, watch, output, cancellationToken);
                    continue;
                }

                if (!standing.Settled || standing != previous)
                {
                    settledSince = standing.Settled ? watch.Elapsed : null;
                }
            }

            var (tallies, rows) = await ReadTalliesAndRowsAsync(connection, cancellationToken);
            var excess = tallies.Keys.Union(rows.Keys).Select(o => tallies.GetValueOrDefault(o) - rows.GetValueOrDefault(o)).ToArray();
            var (resultsTotal, resultsAgree, resultsProblem) = options.Results is { } results
                ? await CheckResultsAsync(results, connection, options, cancellationToken)
                : (null, null, null);

            return new AuditReport
            {
                Voters = truth.Voters,
                Acknowledged = standing.Acknowledged,
                AcknowledgedVotes = truth.AcknowledgedVotes,
                Counted = standing.Counted,
                Lost = standing.Lost,
                WrongOption = standing.WrongOption,
                WrongVoteId = standing.WrongVoteId,
                Unexpected = standing.Unexpected,
                Uncertain = standing.Uncertain,
                UncertainTookUnconfirmed = standing.UncertainTookUnconfirmed,
                DoubleCounted = excess.Where(e => e > 0).Sum(),
                MissingFromTallies = -excess.Where(e => e < 0).Sum(),
                Tallies = tallies,
                Rows = rows,
                RunRows = await ReadCountsAsync(connection, RunRowsSql, cancellationToken),
                RunExpected = truth.ExpectedByOption(),
                Drained = standing.Settled,
                DrainTime = settledSince ?? watch.Elapsed,
                ResultsTotal = resultsTotal,
                ResultsAgree = resultsAgree,
                ResultsProblem = resultsProblem,
                Examples = standing.Settled ? [] : await ReadExamplesAsync(connection, cancellationToken),
            };
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    /// <summary>
    /// A connection with this run's expectations loaded, waiting (within the drain timeout) while PostgreSQL cannot be
    /// reached or is still recovering: a fault run may end its load while PostgreSQL is down or failing over.
    /// </summary>
    private static async Task<NpgsqlConnection> ConnectAsync(NpgsqlDataSource dataSource, GroundTruth truth, LoadOptions options, Stopwatch watch,
        TextWriter output, CancellationToken cancellationToken)
    {
        var said = false;
        while (true)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await LoadExpectationsAsync(connection, truth, cancellationToken);
                return connection;
            }
            catch (NpgsqlException e) when (IsUnavailable(e) && watch.Elapsed < options.DrainTimeout)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }

                if (!said)
                {
                    await output.WriteLineAsync($"  PostgreSQL cannot be read yet ({e.Message}); waiting for it");
                    said = true;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    /// <summary>
    /// PostgreSQL is down, restarting or failing over: the connection failed, the server is shutting down or still
    /// recovering (57P01-57P03), or it is a standby being promoted (25006, read-only).
    /// </summary>
    private static bool IsUnavailable(NpgsqlException e) =>
        e.IsTransient || e is PostgresException { SqlState: "57P01" or "57P02" or "57P03" or "25006" };

    /// <summary>This run's expectations into a temporary table of this connection.</summary>
    private static async Task LoadExpectationsAsync(NpgsqlConnection connection, GroundTruth truth, CancellationToken cancellationToken)
    {
        await using (var create = new NpgsqlCommand(
            $"""
            DROP TABLE IF EXISTS pg_temp.{ExpectedTable};
            CREATE TEMP TABLE {ExpectedTable} (voter_id uuid PRIMARY KEY, option text, vote_id uuid, unconfirmed text[] NOT NULL);
            """, connection))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var unconfirmedArrays = new Dictionary<uint, string[]>();
        await using (var import = await connection.BeginBinaryImportAsync(
            $"COPY {ExpectedTable} (voter_id, option, vote_id, unconfirmed) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            for (var i = 0; i < truth.Records.Length; i++)
            {
                var voter = truth.Records[i];
                if (voter.VoterId == Guid.Empty)
                {
                    continue;
                }

                await import.StartRowAsync(cancellationToken);
                await import.WriteAsync(voter.VoterId, NpgsqlDbType.Uuid, cancellationToken);
                if (voter.Option >= 0)
                {
                    await import.WriteAsync(truth.Options[voter.Option], NpgsqlDbType.Text, cancellationToken);
                }
                else
                {
                    await import.WriteNullAsync(cancellationToken);
                }

                if (voter.VoteId != Guid.Empty)
                {
                    await import.WriteAsync(voter.VoteId, NpgsqlDbType.Uuid, cancellationToken);
                }
                else
                {
                    await import.WriteNullAsync(cancellationToken);
                }

                if (!unconfirmedArrays.TryGetValue(voter.Unconfirmed, out var unconfirmed))
                {
                    unconfirmed = [.. truth.Options.Where((_, option) => (voter.Unconfirmed & (1u << option)) != 0)];
                    unconfirmedArrays[voter.Unconfirmed] = unconfirmed;
                }

                await import.WriteAsync(unconfirmed, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
            }

            await import.CompleteAsync(cancellationToken);
        }

        await using var analyze = new NpgsqlCommand($"ANALYZE {ExpectedTable}", connection);
        await analyze.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<Standing> ReadStandingAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(StandingSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new Standing(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3),
            reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7));
    }

    private static async Task<(Dictionary<string, long> Tallies, Dictionary<string, long> Rows)> ReadTalliesAndRowsAsync(
        NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(TalliesAndRowsSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tallies = new Dictionary<string, long>(StringComparer.Ordinal);
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            (reader.GetString(0) == "t" ? tallies : rows)[reader.GetString(1)] = reader.GetInt64(2);
        }

        return (tallies, rows);
    }

    private static async Task<Dictionary<string, long>> ReadCountsAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        return counts;
    }

    private static async Task<IReadOnlyList<string>> ReadExamplesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ExamplesSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var examples = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var expected = reader.IsDBNull(1) ? "no acknowledged vote" : $"acknowledged '{reader.GetString(1)}'"
                + (reader.IsDBNull(2) ? "" : $" vote {reader.GetGuid(2):N}");
            var unconfirmed = reader.GetFieldValue<string[]>(3);
            if (unconfirmed.Length > 0)
            {
                expected += $", unconfirmed {string.Join('/', unconfirmed)}";
            }

            var found = reader.IsDBNull(4)
                ? "no row"
                : string.Create(CultureInfo.InvariantCulture,
                    $"row '{reader.GetString(4)}' vote {reader.GetGuid(5):N} from {reader.GetString(6)} at {reader.GetDateTime(7):O}");
            examples.Add($"voter {reader.GetGuid(0):N}: {expected}; {found}");
        }

        return examples;
    }

    /// <summary>
    /// The results app's counts against the tallies, read right after; a few tries in case a commit fell between. Over
    /// HTTPS it trusts what the votes' client trusts (<see cref="LoadOptions.TrustedCertificates"/>).
    /// </summary>
    private static async Task<(long? Total, bool? Agree, string? Problem)> CheckResultsAsync(
        Uri results, NpgsqlConnection connection, LoadOptions options, CancellationToken cancellationToken)
    {
        using var http = VoteClient.CreateHttpClient(options);
        var api = new Uri(LoadOptions.Directory(results), "api/results");
        long? total = null;
        for (var attempt = 0; attempt < 10; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(PollInterval, cancellationToken);
            }

            Dictionary<string, long> reported;
            try
            {
                using var response = await http.GetAsync(api, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return (null, false, $"GET {api} answered {(int)response.StatusCode}");
                }

                using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
                total = json.RootElement.GetProperty("total").GetInt64();
                reported = json.RootElement.GetProperty("options").EnumerateArray()
                    .Where(o => o.GetProperty("count").GetInt64() != 0)
                    .ToDictionary(o => o.GetProperty("key").GetString()!, o => o.GetProperty("count").GetInt64(), StringComparer.Ordinal);
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
                or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return (null, false, $"GET {api} failed: {e.Message}");
            }

            var (tallies, _) = await ReadTalliesAndRowsAsync(connection, cancellationToken);
            if (reported.Count == tallies.Count && reported.All(r => tallies.GetValueOrDefault(r.Key) == r.Value))
            {
                return (total, true, null);
            }
        }

        return (total, false, $"GET {api} reports other counts than the tallies");
    }

    /// <summary>One reading of this run's voters against their rows.</summary>
    private sealed record Standing(
        long Acknowledged, long Counted, long Lost, long WrongOption, long WrongVoteId, long Unexpected, long Uncertain, long UncertainTookUnconfirmed)
    {
        /// <summary>Every acknowledged voter's row is there and right.</summary>
        public bool Settled => Lost == 0 && WrongOption == 0 && WrongVoteId == 0 && Unexpected == 0;

        public string Describe(TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture,
            $"drain {elapsed.TotalSeconds,5:F1}s  counted {Counted:N0} of {Acknowledged:N0} acknowledged voters  missing {Lost:N0}  not yet latest {WrongOption + WrongVoteId:N0}");
    }
}
