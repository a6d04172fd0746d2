using Microsoft.Extensions.Logging;

namespace Voting.Grains.Polling;

/// <summary>
/// The poll's schedule: the configured one (<see cref="PollDefaults"/>) with the operators' commands over it, which
/// persist in the cluster's grain storage so that every process sees the same poll across restarts. An operator's
/// command wins over the configured time it replaces. Once closed, a poll is not opened again: its count is final.
/// </summary>
public sealed partial class PollGrain(
    [PersistentState("poll", PollDefaults.StorageName)] IPersistentState<PollState> state,
    PollDefaults defaults,
    TimeProvider timeProvider,
    ILogger<PollGrain> logger) : Grain, IPollGrain
{
    public Task<PollStatus> GetStatusAsync() => Task.FromResult(StatusAt(timeProvider.GetUtcNow()));

    public async Task<PollCommandResult> OpenAsync()
    {
        var now = timeProvider.GetUtcNow();
        var status = StatusAt(now);
        if (status.Phase is not PollPhase.Scheduled)
        {
            return Refused(status, status.Phase is PollPhase.Closed
                ? $"The poll closed at {Format(status.Schedule.ClosesAt)} and is not opened again: its count is final."
                : $"The poll is already open{Since(status.Schedule.OpensAt)}.");
        }

        state.State.OpenedAt = now;
        await state.WriteStateAsync();
        LogCommand(logger, "open", now);
        return Done(now, $"The poll is open from {Format(now)}.");
    }

    public async Task<PollCommandResult> CloseAsync()
    {
        var now = timeProvider.GetUtcNow();
        var status = StatusAt(now);
        switch (status.Phase)
        {
            case PollPhase.Scheduled:
                return Refused(status, $"The poll is not open yet (it opens {(status.Schedule.OpensAt is { } opens ? "at " + Format(opens) : "by command")}): open it first.");
            case PollPhase.Closing:
                return Refused(status, $"The poll is already closing: it closes at {Format(status.Schedule.ClosesAt)}.");
            case PollPhase.Closed:
                return Refused(status, $"The poll is already closed: it closed at {Format(status.Schedule.ClosesAt)}.");
        }

        var closesAt = now + defaults.Schedule.CloseNotice;
        state.State.ClosesAt = closesAt;
        await state.WriteStateAsync();
        LogCommand(logger, "close", closesAt);
        return Done(now, $"The poll closes at {Format(closesAt)} ({defaults.Schedule.CloseNotice.TotalSeconds:0.#} s from now): votes timestamped from then on are refused.");
    }

    public async Task<PollCommandResult> ReleaseAsync()
    {
        var now = timeProvider.GetUtcNow();
        var status = StatusAt(now);
        if (!status.Schedule.Embargo)
        {
            return Refused(status, "The results are not under embargo (Poll:Embargo is not set): they are public already.");
        }

        if (!status.Embargoed)
        {
            return Refused(status, $"The results are released already, since {Format(status.Schedule.ReleaseAt)}.");
        }

        if (status.Phase is not PollPhase.Closed)
        {
            return Refused(status, "The poll is not closed yet: results are released after the close (./voting poll close).");
        }

        state.State.ReleasedAt = now;
        await state.WriteStateAsync();
        LogCommand(logger, "release", now);
        return Done(now, $"The results are public from {Format(now)}.");
    }

    private PollStatus StatusAt(DateTimeOffset now)
    {
        var configured = defaults.Schedule;
        var operated = state.State;
        var schedule = configured with
        {
            OpensAt = operated.OpenedAt ?? configured.OpensAt,
            ClosesAt = operated.ClosesAt ?? configured.ClosesAt,
            ReleaseAt = operated.ReleasedAt ?? configured.ReleaseAt,
        };
        var managed = defaults.Managed || schedule.Limited;
        return new PollStatus(schedule, schedule.PhaseAt(now), schedule.EmbargoedAt(now), managed, now);
    }

    private PollCommandResult Done(DateTimeOffset now, string detail) => new(true, detail, StatusAt(now));

    private static PollCommandResult Refused(PollStatus status, string detail) => new(false, detail, status);

    private static string Since(DateTimeOffset? opensAt) => opensAt is { } time ? " since " + Format(time) : "";

    private static string Format(DateTimeOffset? time) =>
        time?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture) ?? "(unknown)";

    [LoggerMessage(1, LogLevel.Warning, "Operator's poll command {Command}: takes effect at {At}")]
    private static partial void LogCommand(ILogger logger, string command, DateTimeOffset at);
}

/// <summary>The operators' commands, persisted: each replaces the configured time it names.</summary>
[GenerateSerializer, Alias("Voting.PollState")]
public sealed class PollState
{
    [Id(0)]
    public DateTimeOffset? OpenedAt { get; set; }

    [Id(1)]
    public DateTimeOffset? ClosesAt { get; set; }

    [Id(2)]
    public DateTimeOffset? ReleasedAt { get; set; }
}

/// <summary>The poll as configured on the worker silos (section <c>Poll</c>), before any operator's command.</summary>
/// <param name="Schedule">The configured times and close notice.</param>
/// <param name="Managed">Operators open or close the poll by command (<c>Poll:Managed</c>).</param>
public sealed record PollDefaults(PollSchedule Schedule, bool Managed)
{
    /// <summary>The grain storage provider that keeps the operators' commands.</summary>
    public const string StorageName = "poll";

    public static readonly PollDefaults Unlimited = new(PollSchedule.Unlimited, false);
}
