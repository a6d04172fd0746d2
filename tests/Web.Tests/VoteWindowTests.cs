using Voting.Grains;
using Voting.ServiceDefaults.Voting;
using Voting.Web.Poll;

namespace Voting.Web.Tests;

/// <summary>How a front end decides a vote from its copy of the poll's schedule: the window, a stale copy, a skewed clock.</summary>
public sealed class VoteWindowTests
{
    private static readonly DateTimeOffset Opens = new(2026, 12, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Closes = new(2026, 12, 2, 17, 0, 0, TimeSpan.Zero);
    private static readonly PollSchedule Schedule = new(Opens, Closes, false, null, TimeSpan.FromSeconds(5));
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(1);

    [Fact]
    public void AVoteIsTakenFromTheOpenUntilJustBeforeTheCloseByItsOwnTimestamp()
    {
        var copy = Copy(TimeSpan.Zero, TimeSpan.FromMilliseconds(2));
        Assert.Equal(VoteWindowVerdict.NotYetOpen, Decide(copy, Opens.AddTicks(-1)).Verdict);
        Assert.Equal(VoteWindowVerdict.Open, Decide(copy, Opens).Verdict);
        Assert.Equal(VoteWindowVerdict.Open, Decide(copy, Closes.AddMilliseconds(-1)).Verdict);
        var closed = Decide(copy, Closes);
        Assert.Equal(VoteWindowVerdict.Closed, closed.Verdict);
        Assert.Equal("The poll is closed: it closed at 2026-12-02 17:00:00 UTC. Votes are no longer taken.", closed.Sentence);
    }

    [Fact]
    public void AStaleCopyOrNoneLeavesTheFrontEndUnsureWhenThePollHasAWindow()
    {
        var copy = Copy(TimeSpan.Zero, TimeSpan.FromMilliseconds(2));
        Assert.Equal(VoteWindowVerdict.Unsure, VoteWindow.Decide(Schedule, true, null, TimeSpan.MaxValue, MaxAge, MaxSkew, Opens.AddHours(1)).Verdict);
        var stale = VoteWindow.Decide(Schedule, true, copy, MaxAge + TimeSpan.FromMilliseconds(1), MaxAge, MaxSkew, Opens.AddHours(1));
        Assert.Equal(VoteWindowVerdict.Unsure, stale.Verdict);
        Assert.Contains("has not been able to read the poll's schedule for 3.0 s", stale.Sentence, StringComparison.Ordinal);
        Assert.Equal(VoteWindowVerdict.Open, VoteWindow.Decide(Schedule, true, copy, MaxAge, MaxAge, MaxSkew, Opens.AddHours(1)).Verdict);
    }

    [Fact]
    public void WithoutAWindowNoCopyIsNeededAsBeforeThereWasAPoll()
    {
        Assert.Equal(VoteWindowVerdict.Open,
            VoteWindow.Decide(PollSchedule.Unlimited, false, null, TimeSpan.MaxValue, MaxAge, MaxSkew, DateTimeOffset.UnixEpoch).Verdict);
    }

    [Fact]
    public void AClockThatMayBeFurtherOffTheGrainsThanTheBoundLeavesTheFrontEndUnsure()
    {
        // The offset is uncertain by half the round trip, which counts against the bound.
        Assert.Equal(VoteWindowVerdict.Open, Decide(Copy(TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(200)), Opens.AddHours(1)).Verdict);
        var ahead = Decide(Copy(TimeSpan.FromMilliseconds(-900), TimeSpan.FromMilliseconds(400)), Opens.AddHours(1));
        Assert.Equal(VoteWindowVerdict.Unsure, ahead.Verdict);
        Assert.Contains("clock may be 1.1 s off the cluster's", ahead.Sentence, StringComparison.Ordinal);
        Assert.Equal(VoteWindowVerdict.Unsure, Decide(Copy(TimeSpan.FromSeconds(30), TimeSpan.Zero), Opens.AddHours(1)).Verdict);
    }

    [Fact]
    public void UnusableSettingsAreRefusedNamingTheSetting()
    {
        var problems = new PollOptions { OpensAt = "tomorrow", ClosesAt = "2026-12-02T09:00:00Z", ReleaseAt = "2026-12-02T08:00:00Z", CloseNotice = TimeSpan.FromSeconds(2) }.Problems();
        Assert.Contains(problems, p => p.StartsWith("Setting 'Poll:OpensAt' (environment variable Poll__OpensAt) must be an ISO 8601 time", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Setting 'Poll:ReleaseAt'", StringComparison.Ordinal) && p.Contains("Poll:Embargo", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Setting 'Poll:ReleaseAt'", StringComparison.Ordinal) && p.Contains("must not be before Poll:ClosesAt", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Setting 'Poll:CloseNotice'", StringComparison.Ordinal));
        Assert.Contains(new PollOptions { OpensAt = "2026-12-02T10:00:00Z", ClosesAt = "2026-12-02T09:00:00Z" }.Problems(),
            p => p.StartsWith("Setting 'Poll:ClosesAt'", StringComparison.Ordinal));
        Assert.Empty(new PollOptions().Problems());
        Assert.Empty(new PollOptions { OpensAt = "2026-12-02T09:00:00Z", ClosesAt = "2026-12-02T17:00:00Z", Embargo = true, ReleaseAt = "2026-12-03T09:00:00Z" }.Problems());
    }

    private static VoteWindowAnswer Decide(PollCopy copy, DateTimeOffset voteTimestamp) =>
        VoteWindow.Decide(Schedule, true, copy, TimeSpan.FromMilliseconds(500), MaxAge, MaxSkew, voteTimestamp);

    private static PollCopy Copy(TimeSpan offset, TimeSpan roundTrip) =>
        new(new PollStatus(Schedule, PollPhase.Open, false, true, Opens), offset, roundTrip, 0);
}
