using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Configuration;

namespace Voting.ServiceDefaults.Voting;

/// <summary>
/// The poll's configured schedule and the bounds that make its close hold across front ends (section <c>Poll</c>).
/// Every service reads it: the worker silos' poll grain overlays the operators' commands on it (the command wins
/// over the configured time it replaces), and front ends and the results app fall back on it until they have heard
/// the grain. Nothing configured: open from the start, never closed, no embargo — as before there was a poll.
/// </summary>
public sealed class PollOptions
{
    public const string SectionName = "Poll";

    /// <summary>The poll's id: the seal's manifest states it, and the results app finds the poll's seal by it.</summary>
    public string Id { get; set; } = "poll";

    /// <summary>The poll's name (its question), as the seal's manifest states it.</summary>
    public string Name { get; set; } = "Cats or dogs";

    /// <summary>When votes are first taken, ISO 8601 in UTC (e.g. <c>2026-12-02T09:00:00Z</c>); absent: from the start.</summary>
    public string? OpensAt { get; set; }

    /// <summary>The first vote timestamp refused, ISO 8601 in UTC; absent: no scheduled close.</summary>
    public string? ClosesAt { get; set; }

    /// <summary>Withhold the counts from the public until <see cref="ReleaseAt"/> or an operator's release.</summary>
    public bool Embargo { get; set; }

    /// <summary>When an embargo ends, ISO 8601 in UTC; absent: when an operator releases the results.</summary>
    public string? ReleaseAt { get; set; }

    /// <summary>
    /// Front ends refuse votes while they cannot confirm the schedule even with no window configured, because an
    /// operator will open or close the poll by command (a front end that never heard the grain would otherwise take
    /// votes as if the poll had no window).
    /// </summary>
    public bool Managed { get; set; }

    /// <summary>How long after an operator's close command the poll closes: longer than a front end may go unaware of it.</summary>
    public TimeSpan CloseNotice { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often front ends and the results app read the schedule from the poll grain.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A front end whose copy of the schedule is older than this refuses votes (503) and reports not ready.</summary>
    public TimeSpan MaxScheduleAge { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A front end whose clock may differ from the poll grain's by more than this refuses votes (503) and reports not ready.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(1);

    public DateTimeOffset? OpensAtTime => Time(OpensAt);

    public DateTimeOffset? ClosesAtTime => Time(ClosesAt);

    public DateTimeOffset? ReleaseAtTime => Time(ReleaseAt);

    /// <summary>Whether votes need the schedule confirmed: a configured window, or <see cref="Managed"/>.</summary>
    public bool Limited => Managed || !string.IsNullOrWhiteSpace(OpensAt) || !string.IsNullOrWhiteSpace(ClosesAt);

    /// <summary>Parses an ISO 8601 time; one without an offset is taken as UTC. Null when absent or unparsable.</summary>
    public static DateTimeOffset? Time(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;

    /// <summary>What is wrong with these settings, each message naming the setting.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Id) || Id.Length > 100)
        {
            problems.Add(SettingsValidation.Invalid("Poll:Id", "must be a non-empty name of at most 100 characters: the manifest's poll id."));
        }

        if (string.IsNullOrWhiteSpace(Name) || Name.Length > 200)
        {
            problems.Add(SettingsValidation.Invalid("Poll:Name", "must be a non-empty name of at most 200 characters: the manifest's poll name."));
        }

        foreach (var (key, value) in new[] { ("Poll:OpensAt", OpensAt), ("Poll:ClosesAt", ClosesAt), ("Poll:ReleaseAt", ReleaseAt) })
        {
            if (!string.IsNullOrWhiteSpace(value) && Time(value) is null)
            {
                problems.Add(SettingsValidation.Invalid(key, $"must be an ISO 8601 time in UTC, e.g. 2026-12-02T09:00:00Z, not '{value}'."));
            }
        }

        if (ClosesAtTime <= OpensAtTime)
        {
            problems.Add(SettingsValidation.Invalid("Poll:ClosesAt", $"({ClosesAt}) must be after Poll:OpensAt ({OpensAt})."));
        }

        if (!string.IsNullOrWhiteSpace(ReleaseAt) && !Embargo)
        {
            problems.Add(SettingsValidation.Invalid("Poll:ReleaseAt", "is set but Poll:Embargo is not: set Poll:Embargo=true to withhold the results until then."));
        }

        if (ReleaseAtTime < ClosesAtTime)
        {
            problems.Add(SettingsValidation.Invalid("Poll:ReleaseAt", $"({ReleaseAt}) must not be before Poll:ClosesAt ({ClosesAt}): results are released after the close."));
        }

        if (RefreshInterval <= TimeSpan.Zero)
        {
            problems.Add(SettingsValidation.Invalid("Poll:RefreshInterval", "must be positive."));
        }

        if (MaxScheduleAge < 2 * RefreshInterval)
        {
            problems.Add(SettingsValidation.Invalid("Poll:MaxScheduleAge", $"({MaxScheduleAge}) must be at least twice Poll:RefreshInterval ({RefreshInterval}), or one slow read makes a front end refuse votes."));
        }

        if (MaxClockSkew <= TimeSpan.Zero)
        {
            problems.Add(SettingsValidation.Invalid("Poll:MaxClockSkew", "must be positive."));
        }

        if (CloseNotice <= MaxScheduleAge + MaxClockSkew)
        {
            problems.Add(SettingsValidation.Invalid("Poll:CloseNotice",
                $"({CloseNotice}) must be longer than Poll:MaxScheduleAge plus Poll:MaxClockSkew ({MaxScheduleAge + MaxClockSkew}): a front end must hear of a close before it takes effect."));
        }

        return problems;
    }

    internal sealed class Validation : IValidateOptions<PollOptions>
    {
        public ValidateOptionsResult Validate(string? name, PollOptions options) =>
            options.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}

public static class PollOptionsExtensions
{
    /// <summary>Binds section <c>Poll</c> and validates it at start-up.</summary>
    public static IServiceCollection AddVotingPollOptions(this IServiceCollection services)
    {
        services.AddOptions<PollOptions>().BindConfiguration(PollOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<PollOptions>, PollOptions.Validation>();
        return services;
    }
}
