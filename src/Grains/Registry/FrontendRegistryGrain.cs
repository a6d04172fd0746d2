using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Voting.Grains.Registry;

/// <summary>
/// The front ends that exist, persisted, and the guarantee that each has a running drainer: on every registration,
/// on activation, and on a reminder, so drainers come back after the silo that hosted them died.
/// </summary>
public sealed partial class FrontendRegistryGrain(
    [PersistentState("frontends", RegistryOptions.StorageName)] IPersistentState<RegistryState> state,
    IOptions<RegistryOptions> options,
    TimeProvider timeProvider,
    ILogger<FrontendRegistryGrain> logger) : Grain, IFrontendRegistryGrain, IRemindable
{
    private const string ReviveReminder = "revive-drainers";

    // When each front end last registered with this activation (front ends register again every 30 s), or when this
    // activation started, whichever is later.
    private readonly Dictionary<string, DateTimeOffset> _lastRegisteredAt = new(StringComparer.Ordinal);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A new activation has not heard from anybody yet: every known front end counts as just registered until it
        // has had a full window to register with this activation (and has not).
        var now = timeProvider.GetUtcNow();
        foreach (var frontendId in state.State.Frontends.Keys)
        {
            _lastRegisteredAt[frontendId] = now;
        }

        await this.RegisterOrUpdateReminder(ReviveReminder, options.Value.ReviveInterval, options.Value.ReviveInterval, cancellationToken);
        await ReviveDrainersAsync();
    }

    public async Task RegisterAsync(FrontendInfo frontend)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(frontend.FrontendId);
        ArgumentException.ThrowIfNullOrWhiteSpace(frontend.RedisEndpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(frontend.StreamKey);

        var known = state.State.Frontends.GetValueOrDefault(frontend.FrontendId);
        if (known is not null && !SameStream(known, frontend))
        {
            // Following the new stream would abandon whatever waits in the old one, past the retirement checks.
            throw Refused(frontend,
                $"Front end '{frontend.FrontendId}' is registered with Redis {known.RedisEndpoint}, stream {known.StreamKey}, and cannot move to " +
                $"Redis {frontend.RedisEndpoint}, stream {frontend.StreamKey}: votes waiting in the old stream would never be counted. " +
                $"Retire it first (./voting retire {frontend.FrontendId}: refused while votes wait in the old stream), then it registers with the new one.");
        }

        if (state.State.Frontends.Values.FirstOrDefault(f => f.FrontendId != frontend.FrontendId && SameStream(f, frontend)) is { } owner)
        {
            throw Refused(frontend,
                $"Redis {frontend.RedisEndpoint}, stream {frontend.StreamKey} is front end '{owner.FrontendId}''s: front end '{frontend.FrontendId}' cannot register it too " +
                "(two drainers would share one stream under two names, and retiring either would abandon the other's votes). Give each front end its own Redis or stream.");
        }

        if (known != frontend)
        {
            state.State.Frontends[frontend.FrontendId] = frontend;
            await state.WriteStateAsync();
            LogRegistered(logger, frontend.FrontendId, frontend.RedisEndpoint, frontend.StreamKey);
        }

        _lastRegisteredAt[frontend.FrontendId] = timeProvider.GetUtcNow();

        await GrainFactory.GetGrain<IQueueDrainerGrain>(frontend.FrontendId).EnsureRunningAsync(frontend);
    }

    private static bool SameStream(FrontendInfo a, FrontendInfo b) =>
        string.Equals(a.RedisEndpoint, b.RedisEndpoint, StringComparison.OrdinalIgnoreCase) && string.Equals(a.StreamKey, b.StreamKey, StringComparison.Ordinal);

    private FrontendRegistrationRefusedException Refused(FrontendInfo frontend, string reason)
    {
        LogRefused(logger, frontend.FrontendId, reason);
        return new FrontendRegistrationRefusedException(reason);
    }

    public async Task<FrontendRetirement> RetireAsync(string frontendId, bool force)
    {
        if (!state.State.Frontends.TryGetValue(frontendId, out var frontend))
        {
            return new FrontendRetirement(RetirementOutcome.NotRegistered, $"No front end '{frontendId}' is registered.", -1);
        }

        if (!force && _lastRegisteredAt.TryGetValue(frontendId, out var seen)
            && timeProvider.GetUtcNow() - seen is var since && since < options.Value.RunningWindow)
        {
            return new FrontendRetirement(RetirementOutcome.StillRunning,
                $"Front end '{frontendId}' may still run: it registered itself (or the registry started) {since.TotalSeconds:F0} s ago, and a running front end registers again every 30 s. Stop it, then retire it after {options.Value.RunningWindow.TotalSeconds:F0} s.", -1);
        }

        // The drainer decides: only it can read the stream and stop in one step. This grain is not reentrant, so no
        // registration or revival of the drainer can come in between.
        var drainer = await GrainFactory.GetGrain<IQueueDrainerGrain>(frontendId).RetireAsync(frontend, force);
        if (!drainer.Stopped)
        {
            return drainer.Problem is { } problem
                ? new FrontendRetirement(RetirementOutcome.RedisUnreachable,
                    $"Front end '{frontendId}' is still registered: its Redis cannot be read ({problem}), so votes may wait there. Retire it with force to abandon them.", -1)
                : new FrontendRetirement(RetirementOutcome.VotesWaiting,
                    $"Front end '{frontendId}' is still registered: {drainer.Waiting} votes wait in its stream ({drainer.Pending} being committed). Stop the front end, let its drainer catch up, and retire it again.", drainer.Waiting);
        }

        state.State.Frontends.Remove(frontendId);
        _lastRegisteredAt.Remove(frontendId);
        await state.WriteStateAsync();
        LogRetired(logger, frontendId, drainer.Waiting);
        var abandoned = drainer.Waiting switch
        {
            0 => "no votes were waiting",
            < 0 => "its Redis could not be read: votes waiting there, if any, are abandoned",
            _ => $"{drainer.Waiting} waiting votes are abandoned",
        };
        return new FrontendRetirement(RetirementOutcome.Retired, $"Front end '{frontendId}' is retired; {abandoned}.", drainer.Waiting);
    }

    public Task<FrontendInfo[]> GetFrontendsAsync() =>
        Task.FromResult(state.State.Frontends.Values.OrderBy(f => f.FrontendId, StringComparer.Ordinal).ToArray());

    public async Task ReviveDrainersAsync()
    {
        var frontends = state.State.Frontends.Values.ToArray();
        var calls = frontends.Select(f => GrainFactory.GetGrain<IQueueDrainerGrain>(f.FrontendId).EnsureRunningAsync(f)).ToArray();
        try
        {
            await Task.WhenAll(calls);
        }
        catch (Exception exception)
        {
            // One drainer that cannot start must not keep the others from starting; the next reminder tries again.
            LogReviveFailed(logger, exception, calls.Count(c => c.IsFaulted), frontends.Length);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => ReviveDrainersAsync();

    [LoggerMessage(1, LogLevel.Information, "Front end {FrontendId} registered: Redis {RedisEndpoint}, stream {StreamKey}")]
    private static partial void LogRegistered(ILogger logger, string frontendId, string redisEndpoint, string streamKey);

    [LoggerMessage(4, LogLevel.Error, "Registration of front end {FrontendId} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string frontendId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Front end {FrontendId} retired with {Waiting} votes waiting (-1: unknown)")]
    private static partial void LogRetired(ILogger logger, string frontendId, long waiting);

    [LoggerMessage(2, LogLevel.Warning, "{Failed} of {Total} drainers could not be started; retrying at the next reminder")]
    private static partial void LogReviveFailed(ILogger logger, Exception exception, int failed, int total);
}

/// <summary>The registry's persisted state.</summary>
[GenerateSerializer, Alias("Voting.RegistryState")]
public sealed class RegistryState
{
    [Id(0)]
    public Dictionary<string, FrontendInfo> Frontends { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Settings of the front-end registry (section <c>Registry</c>).</summary>
public sealed class RegistryOptions
{
    public const string SectionName = "Registry";

    /// <summary>The grain storage provider that keeps the registry.</summary>
    public const string StorageName = "registry";

    /// <summary>How often the reminder makes sure every drainer runs (Orleans' minimum is one minute).</summary>
    public TimeSpan ReviveInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A front end that registered within this window still runs (front ends register every 30 s), and is only
    /// retired when forced.
    /// </summary>
    public TimeSpan RunningWindow { get; set; } = TimeSpan.FromSeconds(75);
}
