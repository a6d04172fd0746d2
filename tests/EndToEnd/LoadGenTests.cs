using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Voting.LoadGen;
using Voting.LoadGen.Auditing;
using Voting.LoadGen.Measuring;
using Voting.LoadGen.Receipts;
using Voting.Local;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The load tool against the real processes: a bounded run audits clean, and the audit is able to fail — it finds a
/// voter whose row went missing or changed, and a tally above its rows.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class LoadGenTests(VotingSystemFixture system)
{
    [Fact]
    public async Task AnAuditAfterABoundedLoadRunFindsEveryAcknowledgedVoteCountedOnceWithTheLatestChoice()
    {
        // About 450 votes at 150 votes/s: a few seconds, with a progress line every half second.
        var output = new StringWriter();
        var receipts = Path.Combine(Voting.Testing.TestDirectories.Create("load-receipts"), "receipts.csv");
        var options = Options(voters: 300) with { Rate = 150, ProgressInterval = TimeSpan.FromMilliseconds(500), ReceiptsFile = receipts };
        var report = await LoadRun.RunAsync(options, output, CancellationToken.None);

        var audit = Assert.IsType<AuditReport>(report.Audit);
        Assert.True(report.Passed, output.ToString());
        Assert.Equal(0, report.ExitCode);
        Assert.Equal(300, report.Truth.Voters);
        Assert.True(audit.Acknowledged > 250, output.ToString());
        // Counted also holds voters whose only vote went unanswered (or 5xx) and was stored anyway.
        Assert.InRange(audit.Counted, audit.Acknowledged, audit.Acknowledged + audit.Uncertain);
        Assert.Equal(0, audit.Lost);
        Assert.Equal(0, audit.DoubleCounted);
        Assert.Equal(0, audit.WrongChoice);
        Assert.True(audit.Drained);
        Assert.True(audit.ResultsAgree, output.ToString());
        // Changers and double submitters sent more votes than there are voters; every one was answered.
        Assert.True(report.Load.VotesSent > 300 + 50, output.ToString());
        Assert.Equal(report.Load.VotesSent, report.Load.Acknowledged + report.Load.Refused + report.Load.Errors);
        // The pacer lets the n-th vote go no earlier than n / rate seconds after the start.
        Assert.True(report.Load.Elapsed >= TimeSpan.FromSeconds((report.Load.VotesSent - 1) / options.Rate), output.ToString());
        Assert.Contains("AUDIT PASSED", output.ToString(), StringComparison.Ordinal);
        // Every acknowledged vote, JSON or form, came with its receipt (the system's front ends have the key), and
        // the file keeps them all: one code per voter, their latest the one the audit found counted.
        Assert.Equal(0, report.Truth.VotesWithoutReceipt);
        var kept = await ReceiptFile.ReadAsync(receipts, CancellationToken.None);
        Assert.Equal(audit.Acknowledged, kept.Count);
        Assert.Equal(report.Truth.AcknowledgedVotes, kept.Sum(v => (long)v.Votes.Count));
        // With the client address each voter voted from: their receipt lookups present it too.
        Assert.All(kept, v => Assert.Equal(options.AddressOf(v.Voter), v.Address));
        Assert.Matches(@"votes/s +[\d,]+ +acked [\d,]+ +refused \d+ +errors \d+ +p50 [\d.]+m?s p90 [\d.]+m?s p99 [\d.]+m?s", output.ToString());
    }

    [Fact]
    public async Task AnAuditFindsAVoterWhoseRowWasDeletedAsLostAndOneWhoseOptionWasChangedAsWrong()
    {
        var options = Options(voters: 60);
        var run = new StringWriter();
        var report = await LoadRun.RunAsync(options, run, CancellationToken.None);
        Assert.True(report.Passed, run.ToString());

        var certain = report.Truth.Outcomes().Where(v => v.Option is not null && !v.Uncertain).Take(2).ToArray();
        var (deleted, changed) = (certain[0], certain[1]);
        await ExecuteAsync("DELETE FROM votes WHERE voter_id = @voter", deleted.VoterId);
        await ExecuteAsync("UPDATE votes SET option = CASE option WHEN 'a' THEN 'b' ELSE 'a' END WHERE voter_id = @voter", changed.VoterId);

        // Only the audit again, with a short drain timeout: a lost vote never drains.
        var output = new StringWriter();
        var audit = await LoadRun.AuditAsync(options with { DrainTimeout = TimeSpan.FromSeconds(1) }, report.Truth, output, CancellationToken.None);

        Assert.False(audit.Passed);
        Assert.False(audit.Drained);
        Assert.Equal(1, audit.Lost);
        Assert.Equal(1, audit.WrongOption);
        Assert.True(report.Audit!.Counted - 2 == audit.Counted, run + "\n" + output);
        // Deleting and updating rows keeps the tallies exact: nothing is double counted.
        Assert.Equal(0, audit.DoubleCounted);
        Assert.Contains(audit.Examples, e => e.Contains(deleted.VoterId.ToString("N"), StringComparison.Ordinal) && e.EndsWith("no row", StringComparison.Ordinal));
        Assert.Contains(audit.Examples, e => e.Contains(changed.VoterId.ToString("N"), StringComparison.Ordinal));
        Assert.Contains("AUDIT FAILED: lost 1, double-counted 0, wrong choice 1", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAuditThatStartsWhilePostgresIsDownWaitsForItAndPasses()
    {
        // A fault run may end its load while PostgreSQL is still down or recovering: the audit waits for it.
        var options = Options(voters: 60);
        var run = new StringWriter();
        var report = await LoadRun.RunAsync(options, run, CancellationToken.None);
        Assert.True(report.Passed, run.ToString());

        await system.Postgres.StopImmediatelyAsync();
        var output = new StringWriter();
        Task<AuditReport> audit;
        try
        {
            audit = LoadRun.AuditAsync(options, report.Truth, TextWriter.Synchronized(output), CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.False(audit.IsCompleted, $"the audit ended while PostgreSQL was down: {output}");
        }
        finally
        {
            await system.Postgres.RestartAsync();
            system.Database.Clear();
        }

        Assert.True((await audit).Passed, output.ToString());
        Assert.Contains("PostgreSQL cannot be read yet", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAuditFindsATallyAboveItsRowsAsDoubleCounted()
    {
        var options = Options(voters: 30);
        var report = await LoadRun.RunAsync(options, TextWriter.Null, CancellationToken.None);
        Assert.True(report.Passed);

        const string Slot = "(SELECT min(slot) FROM tallies WHERE option = 'a')";
        await ExecuteAsync($"UPDATE tallies SET count = count + 1 WHERE option = 'a' AND slot = {Slot}");
        try
        {
            var output = new StringWriter();
            var audit = await LoadRun.AuditAsync(options with { DrainTimeout = TimeSpan.Zero }, report.Truth, output, CancellationToken.None);

            Assert.False(audit.Passed);
            Assert.Equal(1, audit.DoubleCounted);
            Assert.Equal(0, audit.Lost);
            Assert.Equal(0, audit.WrongChoice);
            Assert.Contains("tallies = count(*) per option: NO", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await ExecuteAsync($"UPDATE tallies SET count = count - 1 WHERE option = 'a' AND slot = {Slot}");
        }
    }

    private LoadOptions Options(int voters) => new()
    {
        Frontends = [.. system.Frontends.Select(f => f.App.BaseAddress)],
        Results = system.Results.BaseAddress,
        Postgres = system.ConnectionString,
        Voters = voters,
        Concurrency = 16,
        Duration = TimeSpan.FromSeconds(60),
        ChangeShare = 0.3,
        DoubleShare = 0.15,
        FormShare = 0.3,
        Seed = 20251125,
        RequestTimeout = TimeSpan.FromSeconds(20),
        DrainTimeout = TimeSpan.FromSeconds(60),
    };

    private async Task ExecuteAsync(string sql, Guid? voterId = null)
    {
        await using var command = system.Database.CreateCommand(sql);
        if (voterId is { } voter)
        {
            command.Parameters.AddWithValue("voter", voter);
        }

        Assert.Equal(1, await command.ExecuteNonQueryAsync());
    }
}

/// <summary>The load tool's command line and latency histogram, without the system.</summary>
public sealed class LoadGenToolTests
{
    [Theory]
    [InlineData("--voters", "0", "--voters")]
    [InlineData("--rate", "fast", "--rate")]
    [InlineData("--duration", "soon", "--duration")]
    [InlineData("--frontends", "ftp://127.0.0.1:8081", "--frontends")]
    [InlineData("--change-share", "1.5", "--change-share")]
    [InlineData("--postgres", "Hots=127.0.0.1", "--postgres")]
    [InlineData("--votrs", "10", "--votrs")]
    public async Task ABadArgumentExitsWithCode2AndAUsageMessageNamingIt(string name, string value, string named)
    {
        var (output, error) = (new StringWriter(), new StringWriter());

        var exitCode = await LoadCommand.RunAsync([name, value], output, error);

        Assert.Equal(LoadCommand.BadArguments, exitCode);
        var message = error.ToString();
        Assert.StartsWith($"Voting.LoadGen: {named}", message, StringComparison.Ordinal);
        Assert.Contains("Usage: Voting.LoadGen", message, StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }

    [Theory]
    [InlineData("--concurrency", "0", "--concurrency")]
    [InlineData("--deadline", "later", "--deadline")]
    [InlineData("--results", "results.example.com", "--results")]
    [InlineData("--voters", "10", "--voters")]
    [InlineData("--superseded", "10", "--receipts FILE is required")]
    public async Task ABadReceiptsCheckArgumentExitsWithCode2AndAUsageMessageNamingIt(string name, string value, string named)
    {
        var (output, error) = (new StringWriter(), new StringWriter());

        var exitCode = await LoadCommand.RunAsync(["receipts", name, value], output, error);

        Assert.Equal(LoadCommand.BadArguments, exitCode);
        Assert.StartsWith($"Voting.LoadGen receipts: {named}", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("Usage: Voting.LoadGen receipts", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public async Task AReceiptsCheckWhoseSealIsNotPublishedFailsSayingSo()
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var file = Path.Combine(Voting.Testing.TestDirectories.Create("receipts-check"), "receipts.csv");
        await File.WriteAllTextAsync(file, ReceiptFile.Header + "\n0," + Guid.CreateVersion7().ToString("D") + ",a,0000-0000-0000,0,198.18.0.1\n");

        var exitCode = await LoadCommand.RunAsync(["receipts", "--receipts", file, "--results", $"http://127.0.0.1:{FreePort.Next()}", "--deadline", "0"], output, error);

        Assert.Equal(LoadCommand.Failed, exitCode);
        Assert.StartsWith("Voting.LoadGen receipts: GET http://127.0.0.1:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("/api/results/final/manifest.json failed", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AReceiptsCheckAsksAgainWhileTheResultsAppIsStillLoadingTheSeal()
    {
        // For a few seconds after sealing the results app answers the seal's files 503 with Retry-After ("the poll's
        // seal is being loaded"). A stand-in for it answers so once, then with a manifest that is not one: the check
        // must get past the 503 to the manifest, and fail only on what it then reads.
        var manifestAsked = 0;
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        await using var app = builder.Build();
        app.MapGet("/api/results/final/manifest.json", (HttpContext context) =>
        {
            if (Interlocked.Increment(ref manifestAsked) == 1)
            {
                context.Response.Headers.RetryAfter = "1";
                return Results.Json(new { status = "unavailable", reason = "The poll's seal is being loaded: ask again in a few seconds." }, statusCode: 503);
            }

            return Results.Text("not a manifest", "application/json");
        });
        app.MapGet("/api/results/final/public-key.pem", () => Results.Text("not a key", "application/x-pem-file"));
        await app.StartAsync();
        var (output, error) = (new StringWriter(), new StringWriter());
        var file = Path.Combine(Voting.Testing.TestDirectories.Create("receipts-check"), "receipts.csv");
        await File.WriteAllTextAsync(file, ReceiptFile.Header + "\n0," + Guid.CreateVersion7().ToString("D") + ",a,0000-0000-0000,0,198.18.0.1\n");

        var exitCode = await LoadCommand.RunAsync(["receipts", "--receipts", file, "--results", $"http://127.0.0.1:{port}", "--deadline", "30s"], output, error);

        Assert.Equal(LoadCommand.Failed, exitCode);
        Assert.Equal(2, manifestAsked);
        Assert.StartsWith($"Voting.LoadGen receipts: The published seal at http://127.0.0.1:{port}/ does not verify", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunThatCouldNotBeAuditedStopsBeforeItSendsAVote()
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        var nobody = $"Host=127.0.0.1;Port={FreePort.Next()};Database=voting;Username=voting;Timeout=2";

        var exitCode = await LoadCommand.RunAsync(["--postgres", nobody, "--frontends", $"http://127.0.0.1:{FreePort.Next()}"], output, error);

        Assert.Equal(LoadCommand.Failed, exitCode);
        Assert.StartsWith("Voting.LoadGen: The audit cannot read PostgreSQL 127.0.0.1:", error.ToString(), StringComparison.Ordinal);
        Assert.Equal("", output.ToString());
    }

    [Fact]
    public void ArgumentsInEitherFormSetEveryOption()
    {
        var parsed = LoadArguments.Parse([
            "--frontends", "http://127.0.0.1:9001,http://127.0.0.1:9002/", "--results=none", "--postgres", "Host=127.0.0.1;Port=1;Database=x;Username=y",
            "--voters=50,000", "--concurrency", "8", "--rate", "2500", "--duration", "90", "--change-share", "0.3", "--double-share", "0.1",
            "--form-share", "0.5", "--seed", "42", "--timeout", "500ms", "--drain-timeout", "2m", "--progress", "00:00:02",
        ]);

        var options = Assert.IsType<LoadOptions>(parsed.Options);
        Assert.Equal([new Uri("http://127.0.0.1:9001/"), new Uri("http://127.0.0.1:9002/")], options.Frontends);
        Assert.Null(options.Results);
        Assert.Equal("Host=127.0.0.1;Port=1;Database=x;Username=y", options.Postgres);
        Assert.Equal((50_000, 8, 2500.0, 42), (options.Voters, options.Concurrency, options.Rate, options.Seed));
        Assert.Equal((0.3, 0.1, 0.5), (options.ChangeShare, options.DoubleShare, options.FormShare));
        Assert.Equal(TimeSpan.FromSeconds(90), options.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(500), options.RequestTimeout);
        Assert.Equal(TimeSpan.FromMinutes(2), options.DrainTimeout);
        Assert.Equal(TimeSpan.FromSeconds(2), options.ProgressInterval);
    }

    [Fact]
    public void LatencyPercentilesAreWithinThreePercentOfTheRecordedValues()
    {
        var histogram = new LatencyHistogram();
        for (var microseconds = 1; microseconds <= 100_000; microseconds++)
        {
            histogram.Record(microseconds);
        }

        foreach (var percent in new[] { 50.0, 90.0, 99.0, 99.9 })
        {
            var exact = percent / 100 * 100_000;
            Assert.InRange(histogram.Percentile(percent).TotalMicroseconds, exact, exact * 1.035);
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), histogram.Max);
        Assert.Equal(TimeSpan.Zero, new LatencyHistogram().Percentile(50));
    }
}
