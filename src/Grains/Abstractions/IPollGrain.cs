using System.Text.Json;
using System.Text.Json.Serialization;

namespace Voting.Grains;

/// <summary>
/// The poll: when it opens and closes, and whether its results are embargoed and until when. One per system, on the
/// worker silos, its operators' changes persisted in the cluster's grain storage. Front ends and the results app read
/// it in the background (about once a second), never per vote or per request.
/// </summary>
[Alias("Voting.IPollGrain")]
public interface IPollGrain : IGrainWithIntegerKey
{
    /// <summary>The schedule in effect (configuration overlaid with the operators' commands) and the grain's clock.</summary>
    [Alias("GetStatus")]
    Task<PollStatus> GetStatusAsync();

    /// <summary>Opens a poll that has not opened yet, now. A poll that is open, closing or closed is not opened again.</summary>
    [Alias("Open")]
    Task<PollCommandResult> OpenAsync();

    /// <summary>Closes an open poll a notice period from now (<c>Poll:CloseNotice</c>), so every front end hears of it in time.</summary>
    [Alias("Close")]
    Task<PollCommandResult> CloseAsync();

    /// <summary>Lifts the results embargo of a closed poll, now.</summary>
    [Alias("Release")]
    Task<PollCommandResult> ReleaseAsync();
}

public static class PollGrainFactoryExtensions
{
    /// <summary>The poll is a singleton grain.</summary>
    public static IPollGrain GetPoll(this IGrainFactory grains) => grains.GetGrain<IPollGrain>(0);
}

/// <summary>Where the poll stands at a moment; in JSON <c>scheduled</c>, <c>open</c>, <c>closing</c> or <c>closed</c>.</summary>
[JsonConverter(typeof(PollPhaseJsonConverter))]
public enum PollPhase
{
    /// <summary>Not open yet: votes are refused.</summary>
    Scheduled,

    /// <summary>Votes are taken, and no close is due within the close notice.</summary>
    Open,

    /// <summary>Votes are still taken, and the close is due within the close notice.</summary>
    Closing,

    /// <summary>Votes are refused.</summary>
    Closed,
}

/// <summary>When the poll opens and closes and when its results are released; null times: no such moment.</summary>
/// <param name="OpensAt">When votes are first taken; null: from the start.</param>
/// <param name="ClosesAt">The first vote timestamp refused; null: no close scheduled.</param>
/// <param name="Embargo">Whether results are withheld from the public until <paramref name="ReleaseAt"/>.</param>
/// <param name="ReleaseAt">When an embargo ends; null: when an operator releases the results.</param>
/// <param name="CloseNotice">How long before the close it is announced (an operator's close takes effect this long after the command).</param>
[GenerateSerializer, Immutable, Alias("Voting.PollSchedule")]
public sealed record PollSchedule(
    [property: Id(0)] DateTimeOffset? OpensAt,
    [property: Id(1)] DateTimeOffset? ClosesAt,
    [property: Id(2)] bool Embargo,
    [property: Id(3)] DateTimeOffset? ReleaseAt,
    [property: Id(4)] TimeSpan CloseNotice)
{
    /// <summary>The default: open from the start, never closed, no embargo.</summary>
    public static readonly PollSchedule Unlimited = new(null, null, false, null, TimeSpan.FromSeconds(5));

    /// <summary>Whether the poll has a window at all: front ends must then know the schedule to take a vote.</summary>
    public bool Limited => OpensAt is not null || ClosesAt is not null;

    public PollPhase PhaseAt(DateTimeOffset time) =>
        OpensAt > time ? PollPhase.Scheduled
        : ClosesAt <= time ? PollPhase.Closed
        : ClosesAt - CloseNotice <= time ? PollPhase.Closing
        : PollPhase.Open;

    /// <summary>Whether the public is kept from the counts at <paramref name="time"/>.</summary>
    public bool EmbargoedAt(DateTimeOffset time) => Embargo && !(ReleaseAt <= time);
}

/// <summary>The poll as the grain sees it.</summary>
/// <param name="Schedule">The schedule in effect.</param>
/// <param name="Phase">Its phase at <paramref name="ServerTime"/>.</param>
/// <param name="Embargoed">Whether results are withheld at <paramref name="ServerTime"/>.</param>
/// <param name="Managed">
/// Whether the poll has a window: a configured open or close, or an operator's command. Front ends then refuse votes
/// while their copy of the schedule is stale (they cannot tell whether a close was announced).
/// </param>
/// <param name="ServerTime">The grain's clock when it answered: front ends bound their clock's skew with it.</param>
[GenerateSerializer, Immutable, Alias("Voting.PollStatus")]
public sealed record PollStatus(
    [property: Id(0)] PollSchedule Schedule,
    [property: Id(1)] PollPhase Phase,
    [property: Id(2)] bool Embargoed,
    [property: Id(3)] bool Managed,
    [property: Id(4)] DateTimeOffset ServerTime);

/// <summary>What an operator's command did.</summary>
/// <param name="Done">False: refused in this phase (nothing changed), <paramref name="Detail"/> says why.</param>
/// <param name="Detail">A sentence for the operator.</param>
/// <param name="Status">The poll after the command.</param>
[GenerateSerializer, Immutable, Alias("Voting.PollCommandResult")]
public sealed record PollCommandResult(
    [property: Id(0)] bool Done,
    [property: Id(1)] string Detail,
    [property: Id(2)] PollStatus Status);

/// <summary>Writes <see cref="PollPhase"/> as its camel-case name, which operators and scripts read.</summary>
public sealed class PollPhaseJsonConverter() : JsonStringEnumConverter<PollPhase>(JsonNamingPolicy.CamelCase);
