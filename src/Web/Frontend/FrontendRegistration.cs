using Microsoft.Extensions.Options;
using Voting.Grains;

namespace Voting.Web.Frontend;

/// <summary>
/// Registers this front end (id, Redis endpoint, stream) with the cluster's registry at start-up and then
/// periodically. Until a worker silo is up the calls fail; votes are accepted meanwhile and wait in Redis.
/// </summary>
public sealed partial class FrontendRegistration(
    IGrainFactory grains,
    IOptions<FrontendOptions> options,
    IConfiguration configuration,
    RegistrationRefusal refusal,
    TimeProvider timeProvider,
    ILogger<FrontendRegistration> logger) : BackgroundService
{
    private static readonly TimeSpan FailureRetryDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var frontend = options.Value;
        var info = new FrontendInfo(
            frontend.Id, frontend.AdvertisedRedisEndpoint, frontend.StreamKey, frontend.EffectiveAdvertisedUrl(configuration["Urls"])?.ToString());
        var failures = 0;
        var registered = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan delay;
            try
            {
                await grains.GetFrontendRegistry().RegisterAsync(info).WaitAsync(TimeSpan.FromSeconds(10), stoppingToken);
                if (!registered || failures > 0)
                {
                    LogRegistered(logger, info.FrontendId, info.HttpEndpoint, info.RedisEndpoint, info.StreamKey);
                }

                registered = true;
                failures = 0;
                refusal.Accepted();
                delay = frontend.RegistrationInterval;
            }
            catch (FrontendRegistrationRefusedException exception)
            {
                // Not a passing trouble: the front end answers "not ready" (no balancer routes to it) and asks again
                // at the usual pace, in case an operator retires the registration in the way.
                if (failures++ % 10 == 0)
                {
                    LogRefused(logger, info.FrontendId, exception.Message);
                }

                refusal.Refused(exception.Message);
                delay = frontend.RegistrationInterval;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Log the first failure and then every tenth, not every two seconds while no worker silo is up.
                if (failures++ % 10 == 0)
                {
                    LogRegistrationFailed(logger, info.FrontendId, failures, exception.Message);
                }

                delay = FailureRetryDelay;
            }

            await Task.Delay(delay, timeProvider, stoppingToken);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Front end {FrontendId} registered with the cluster (at {HttpEndpoint}; Redis {RedisEndpoint}, stream {StreamKey})")]
    private static partial void LogRegistered(ILogger logger, string frontendId, string? httpEndpoint, string redisEndpoint, string streamKey);

    [LoggerMessage(3, LogLevel.Error, "Front end {FrontendId} is refused by the cluster and answers not ready: {Reason}")]
    private static partial void LogRefused(ILogger logger, string frontendId, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Front end {FrontendId} could not register yet (attempt {Attempt}): {Error}; votes are kept in Redis meanwhile")]
    private static partial void LogRegistrationFailed(ILogger logger, string frontendId, int attempt, string error);
}
