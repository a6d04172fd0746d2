using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// <c>./voting chaos</c> as a user runs it: against a system <c>./voting up</c> started, a load run goes on while a
/// worker silo, a front end, its Redis and PostgreSQL are killed and started again, and the audit passes.
/// </summary>
public sealed class ChaosCommandTests(ITestOutputHelper output)
{
    [Fact]
    public async Task TheChaosRunKillsEachPartInTurnAndEveryAcknowledgedVoteIsCounted()
    {
        var voting = VotingCommand.ForNewSystem(frontends: 2);
        try
        {
            var up = await voting.RunAsync("up", "--detach");
            Assert.True(up.ExitCode == 0, up.ToString());

            // The faults take about two minutes; a slower load than the default keeps the machine's two cores for the tests.
            var chaos = await voting.RunAsync(["chaos", "--voters", "6000", "--rate", "60", "--concurrency", "8", "--duration", "125s", "--drain-timeout", "2m"], TimeSpan.FromMinutes(8));
            output.WriteLine(chaos.ToString());
            Assert.True(chaos.ExitCode == 0, chaos.ToString());
            foreach (var step in new[] { "kill -9 worker02", "start worker02 again", "kill -9 frontend02", "start frontend02 again",
                "kill -9 redis02", "start redis02 again", "stop PostgreSQL at once", "start postgres again" })
            {
                Assert.Contains(step, chaos.Output, StringComparison.Ordinal);
            }

            Assert.Contains("AUDIT PASSED", chaos.Output, StringComparison.Ordinal);
        }
        finally
        {
            output.WriteLine((await voting.RunAsync("down")).ToString());
        }
    }
}
