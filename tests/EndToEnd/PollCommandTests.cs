using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Voting.Testing;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// <c>./voting poll status|open|close|release|seal</c> and <c>./voting verify</c> against a system <c>./voting up</c>
/// started with an embargo: each command the poll's phase allows is carried out, each it does not is refused with the
/// reason (exit 1), the close reaches the front ends, and the sealed export verifies until a byte of it is changed.
/// </summary>
public sealed class PollCommandTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ThePollIsClosedAndItsResultsReleasedFromTheCommandLine()
    {
        var voting = new VotingCommand(new Dictionary<string, string>(VotingCommand.ForNewSystem(frontends: 1).Environment)
        {
            ["Poll__Embargo"] = "true",
            ["Poll__CloseNotice"] = "00:00:06",
        });
        try
        {
            var up = await RunAsync(voting, 0, "up", "--detach");
            var vote = new Uri(Regex.Match(up.Output, @"Vote:\s+(\S+)").Groups[1].Value);

            var status = await RunAsync(voting, 0, "poll", "status");
            Assert.Contains("phase       open", status.Output, StringComparison.Ordinal);
            Assert.Contains("results     under embargo, release by command", status.Output, StringComparison.Ordinal);
            Assert.Contains("already open", (await RunAsync(voting, 1, "poll", "open")).Error, StringComparison.Ordinal);
            Assert.Contains("not closed yet", (await RunAsync(voting, 1, "poll", "release")).Error, StringComparison.Ordinal);

            Assert.Equal(HttpStatusCode.Accepted, await VoteAsync(vote));
            var close = await RunAsync(voting, 0, "poll", "close");
            Assert.Contains("The poll closes at", close.Output, StringComparison.Ordinal);
            Assert.Contains("phase       closing", close.Output, StringComparison.Ordinal);
            Assert.Contains("already closing", (await RunAsync(voting, 1, "poll", "close")).Error, StringComparison.Ordinal);

            await Poll.UntilAsync(async () => (await voting.RunAsync("poll", "status")).Output.Contains("phase       closed", StringComparison.Ordinal),
                Timeout, "the poll did not close after the notice");
            Assert.Equal(HttpStatusCode.Forbidden, await VoteAsync(vote));

            var release = await RunAsync(voting, 0, "poll", "release");
            Assert.Contains("The results are public from", release.Output, StringComparison.Ordinal);
            Assert.Contains("results     released", release.Output, StringComparison.Ordinal);
            Assert.Contains("is not opened again", (await RunAsync(voting, 1, "poll", "open")).Error, StringComparison.Ordinal);

            // Sealed once every vote is counted; the export written and verified as anyone would, and refused by the
            // verifier once one byte of a ballot is changed.
            var export = Path.Combine(TestDirectories.Create("poll-seal"), "export");
            var seal = await RunAsync(voting, 0, "poll", "seal", "--out", export);
            Assert.Contains("verifies", seal.Output, StringComparison.Ordinal);
            Assert.Contains("total: 1", seal.Output, StringComparison.Ordinal);
            Assert.Contains("verifies", (await RunAsync(voting, 0, "verify", export)).Output, StringComparison.Ordinal);
            var ballots = Path.Combine(export, "ballots.csv");
            var bytes = await File.ReadAllBytesAsync(ballots);
            var digit = Array.LastIndexOf(bytes, (byte)',') - 1; // the last hex digit of the last ballot's vote id
            bytes[digit] = bytes[digit] == (byte)'0' ? (byte)'1' : (byte)'0';
            await File.WriteAllBytesAsync(ballots, bytes);
            Assert.Contains("does NOT verify", (await RunAsync(voting, 1, "verify", export)).Error, StringComparison.Ordinal);
        }
        finally
        {
            output.WriteLine((await voting.RunAsync("down")).ToString());
        }
    }

    private async Task<CommandResult> RunAsync(VotingCommand voting, int exitCode, params string[] arguments)
    {
        var result = await voting.RunAsync(arguments);
        output.WriteLine($"$ ./voting {string.Join(' ', arguments)}\n{result}");
        Assert.True(result.ExitCode == exitCode, $"./voting {string.Join(' ', arguments)}: {result}");
        return result;
    }

    /// <summary>A new voter's vote through the balancer: its status.</summary>
    private static async Task<HttpStatusCode> VoteAsync(Uri balancer)
    {
        using var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer() }) { BaseAddress = balancer, Timeout = TimeSpan.FromSeconds(10) };
        (await http.GetAsync("/")).EnsureSuccessStatusCode();
        using var response = await http.PostAsJsonAsync("/api/votes", new { option = "a" });
        return response.StatusCode;
    }
}
