using System.Globalization;
using Voting.Grains;

namespace Voting.Web.Poll;

/// <summary>Whether a vote may be taken now.</summary>
public enum VoteWindowVerdict
{
    /// <summary>The poll is open at the vote's timestamp.</summary>
    Open,

    /// <summary>The poll has not opened: 403.</summary>
    NotYetOpen,

    /// <summary>The poll closed at or before the vote's timestamp: 403.</summary>
    Closed,

    /// <summary>This front end cannot tell (its copy of the schedule is stale, or its clock is off): 503.</summary>
    Unsure,
}

/// <summary>The verdict and the sentence a voter or client is told.</summary>
public sealed record VoteWindowAnswer(VoteWindowVerdict Verdict, string Sentence)
{
    public static readonly VoteWindowAnswer Open = new(VoteWindowVerdict.Open, "");
}

/// <summary>
/// The front end's latest copy of the poll's schedule, as read from the poll grain.
/// </summary>
/// <param name="Status">What the grain answered.</param>
/// <param name="ClockOffset">The grain's clock minus this front end's, at the middle of the round trip.</param>
/// <param name="RoundTrip">How long the read took: the offset is uncertain by half of it.</param>
/// <param name="ReadAt">When the answer came (<see cref="TimeProvider.GetTimestamp"/> of this front end).</param>
public sealed record PollCopy(PollStatus Status, TimeSpan ClockOffset, TimeSpan RoundTrip, long ReadAt);

/// <summary>
/// Decides a vote from the front end's copy of the schedule, without asking the grain. Fails closed: when the poll
/// has a window (configured, or heard from the grain), a copy older than <c>Poll:MaxScheduleAge</c> or a clock that
/// may be more than <c>Poll:MaxClockSkew</c> off the grain's leaves the front end unsure, and it takes no vote.
/// </summary>
public static class VoteWindow
{
    /// <param name="configured">The configured schedule, used until the grain has been heard.</param>
    /// <param name="limited">Whether the poll has a window (a configured one, <c>Poll:Managed</c>, or heard from the grain).</param>
    /// <param name="copy">The latest copy, or null before the first read.</param>
    /// <param name="copyAge">How old that copy is.</param>
    /// <param name="maxScheduleAge">The oldest copy a vote may be decided on.</param>
    /// <param name="maxClockSkew">The largest clock difference from the grain allowed, its uncertainty included.</param>
    /// <param name="voteTimestamp">The vote's server timestamp (its id's), compared with the open and the close.</param>
    public static VoteWindowAnswer Decide(
        PollSchedule configured, bool limited, PollCopy? copy, TimeSpan copyAge, TimeSpan maxScheduleAge, TimeSpan maxClockSkew, DateTimeOffset voteTimestamp)
    {
        if (limited)
        {
            if (copy is null || copyAge > maxScheduleAge)
            {
                return new(VoteWindowVerdict.Unsure, copy is null
                    ? "This front end has not read the poll's schedule yet, so it cannot tell whether the poll is open. Try again in a moment."
                    : $"This front end has not been able to read the poll's schedule for {Seconds(copyAge)} (at most {Seconds(maxScheduleAge)} is allowed), so it cannot tell whether the poll is still open. Try again in a moment.");
            }

            if (SkewBound(copy) > maxClockSkew)
            {
                return new(VoteWindowVerdict.Unsure,
                    $"This front end's clock may be {Seconds(SkewBound(copy))} off the cluster's (at most {Seconds(maxClockSkew)} is allowed), so its vote timestamps cannot be trusted against the close. Try again in a moment.");
            }
        }

        var schedule = copy?.Status.Schedule ?? configured;
        if (schedule.OpensAt > voteTimestamp)
        {
            return new(VoteWindowVerdict.NotYetOpen, $"The poll is not open yet: it opens at {Format(schedule.OpensAt.Value)}.");
        }

        if (schedule.ClosesAt <= voteTimestamp)
        {
            return new(VoteWindowVerdict.Closed, $"The poll is closed: it closed at {Format(schedule.ClosesAt.Value)}. Votes are no longer taken.");
        }

        return VoteWindowAnswer.Open;
    }

    /// <summary>How far this front end's clock may be from the grain's: the measured offset plus half the round trip.</summary>
    public static TimeSpan SkewBound(PollCopy copy) => copy.ClockOffset.Duration() + copy.RoundTrip / 2;

    public static string Format(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
