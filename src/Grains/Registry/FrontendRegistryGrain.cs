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
    ILogger<FrontendRegistryGrain> logger) : Grain, IFrontendRegistryGrain, IRemindable
{
    private const string ReviveReminder = "revive-drainers";

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await this.RegisterOrUpdateReminder(ReviveReminder, options.Value.ReviveInterval, options.Value.ReviveInterval, cancellationToken);
        await ReviveDrainersAsync();
    }

    public async Task RegisterAsync(FrontendInfo frontend)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(frontend.FrontendId);
        ArgumentException.ThrowIfNullOrWhiteSpace(frontend.RedisEndpoint);
        ArgumentException.ThrowIfNullOrWhiteSpace(frontend.StreamKey);

        if (!state.State.Frontends.TryGetValue(frontend.FrontendId, out var known) || known != frontend)
        {
            state.State.Frontends[frontend.FrontendId] = frontend;
            await state.WriteStateAsync();
            LogRegistered(logger, frontend.FrontendId, frontend.RedisEndpoint, frontend.StreamKey);
        }

        await GrainFactory.GetGrain<IQueueDrainerGrain>(frontend.FrontendId).EnsureRunningAsync(frontend);
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
}
