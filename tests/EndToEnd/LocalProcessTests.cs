using Voting.Local.Processes;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// How a process the local system started is reported once it has ended: an application that dies before it is
/// ready is named with its exit code, and with the signal that killed it, so a crash does not read as a clean exit.
/// </summary>
public sealed class LocalProcessTests
{
    [Theory]
    [InlineData("exit 3", "ended with exit code 3")]
    [InlineData("kill -SEGV $$", "ended with exit code 139 (killed by SIGSEGV (signal 11))")]
    [InlineData("kill -KILL $$", "ended with exit code 137 (killed by SIGKILL (signal 9))")]
    public async Task AnEndedProcessIsReportedWithItsExitCodeAndTheSignalThatKilledIt(string script, string expected)
    {
        var log = Path.Combine(TestDirectories.Create("local-process"), "ended.log");
        await using var process = LocalProcess.Start("ended", "/bin/sh", ["-c", script], log);
        await process.Exited.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(expected, process.HowItEnded);
    }

    [Fact]
    public async Task ADisposedProcessIsStoppedStillSaysHowItEndedAndMayBeDisposedAgain()
    {
        var log = Path.Combine(TestDirectories.Create("local-process"), "sleeper.log");
        var process = LocalProcess.Start("sleeper", "/bin/sleep", ["60"], log);

        await process.DisposeAsync();
        Assert.True(process.HasExited);
        Assert.Equal("ended with exit code 143 (killed by SIGTERM (signal 15))", process.HowItEnded);
        await process.DisposeAsync();
        Assert.True(process.HasExited);
    }
}
