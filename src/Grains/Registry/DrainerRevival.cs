using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Voting.Grains.Registry;

/// <summary>
/// Brings drainers back as soon as the cluster declares a silo dead, instead of waiting for the registry's
/// reminder or the front ends' next registration. Runs on every worker silo; reviving is idempotent.
/// </summary>
public sealed partial class DrainerRevival(
    IClusterMembershipService membership,
    IGrainFactory grains,
    TimeProvider timeProvider,
    ILogger<DrainerRevival> logger) : BackgroundService
{
    private const int Attempts = 5;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        HashSet<SiloAddress>? dead = null;
        await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
        {
            var deadNow = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Dead).Select(m => m.SiloAddress).ToList();
            if (dead is null)
            {
                // Silos that died before this one started are not news.
                dead = [.. deadNow];
                continue;
            }

            var newlyDead = deadNow.Where(dead.Add).ToList();
            if (newlyDead.Count > 0)
            {
                LogSiloDied(logger, string.Join(", ", newlyDead));
                await ReviveAsync(stoppingToken);
            }
        }
    }

    private async Task ReviveAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                await grains.GetFrontendRegistry().ReviveDrainersAsync().WaitAsync(TimeSpan.FromSeconds(10), stoppingToken);
                LogRevived(logger, attempt);
                return;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogReviveFailed(logger, attempt, Attempts, exception.Message);
                await Task.Delay(RetryDelay, timeProvider, stoppingToken);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Silo(s) {Silos} declared dead; reviving the drainers they may have hosted")]
    private static partial void LogSiloDied(ILogger logger, string silos);

    [LoggerMessage(2, LogLevel.Information, "Drainers revived (attempt {Attempt})")]
    private static partial void LogRevived(ILogger logger, int attempt);

    [LoggerMessage(3, LogLevel.Warning, "Reviving drainers failed (attempt {Attempt} of {Attempts}): {Error}")]
    private static partial void LogReviveFailed(ILogger logger, int attempt, int attempts, string error);
}
