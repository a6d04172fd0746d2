using Voting.Grains.Polling;

namespace Voting.Grains.Tests;

/// <summary>
/// The poll grain's state machine on the worker cluster: configured open from the start with an embargo and a short
/// close notice; closing takes effect after the notice, a closed poll is not opened again, and results are released
/// only after the close. The cluster has one poll, so this is one test in order.
/// </summary>
[Collection(WorkerClusterCollection.Name)]
public sealed class PollGrainTests(WorkerClusterFixture cluster)
{
    /// <summary>The worker cluster's configured poll: open from the start, embargoed until released, 1 s close notice.</summary>
    public static readonly PollDefaults Defaults = new(new PollSchedule(null, null, Embargo: true, null, TimeSpan.FromSeconds(1)), Managed: false);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ThePollClosesAfterTheNoticeIsNotOpenedAgainAndReleasesItsResultsOnlyOnceClosed()
    {
        var poll = cluster.Grains.GetPoll();

        var start = await poll.GetStatusAsync();
        Assert.Equal(PollPhase.Open, start.Phase);
        Assert.True(start.Embargoed);
        Assert.False(start.Managed);

        var open = await poll.OpenAsync();
        Assert.False(open.Done);
        Assert.Contains("already open", open.Detail, StringComparison.Ordinal);

        var early = await poll.ReleaseAsync();
        Assert.False(early.Done);
        Assert.Contains("not closed yet", early.Detail, StringComparison.Ordinal);

        var close = await poll.CloseAsync();
        Assert.True(close.Done, close.Detail);
        Assert.Equal(PollPhase.Closing, close.Status.Phase);
        Assert.True(close.Status.Managed);
        Assert.Equal(close.Status.ServerTime + Defaults.Schedule.CloseNotice, close.Status.Schedule.ClosesAt);

        var again = await poll.CloseAsync();
        Assert.False(again.Done);
        Assert.Contains("already closing", again.Detail, StringComparison.Ordinal);

        await Voting.Testing.Poll.UntilAsync(async () => (await poll.GetStatusAsync()).Phase is PollPhase.Closed, Timeout, "the poll did not close after the notice");

        var reopen = await poll.OpenAsync();
        Assert.False(reopen.Done);
        Assert.Contains("is not opened again", reopen.Detail, StringComparison.Ordinal);
        Assert.False((await poll.CloseAsync()).Done);
        Assert.True((await poll.GetStatusAsync()).Embargoed);

        var release = await poll.ReleaseAsync();
        Assert.True(release.Done, release.Detail);
        Assert.False(release.Status.Embargoed);
        Assert.False((await poll.ReleaseAsync()).Done);

        // A new activation reads the commands back from storage.
        var management = cluster.Grains.GetGrain<IManagementGrain>(0);
        await management.ForceActivationCollection(TimeSpan.Zero);
        var after = await poll.GetStatusAsync();
        Assert.Equal(PollPhase.Closed, after.Phase);
        Assert.False(after.Embargoed);
        Assert.Equal(close.Status.Schedule.ClosesAt, after.Schedule.ClosesAt);
    }
}
