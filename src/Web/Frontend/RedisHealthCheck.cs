using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Voting.Web.Overload;

namespace Voting.Web.Frontend;

/// <summary>
/// Ready when Redis answers and has room: not ready while its <c>used_memory</c> is above
/// <see cref="OverloadOptions.RedisMemoryNotReadyFraction"/> of its <c>maxmemory</c> (<c>INFO memory</c>; a
/// <c>maxmemory</c> of 0 is no limit). A balancer then sends new votes to front ends whose Redis has room, before this
/// one's refuses writes; it is ready again once its drainer has trimmed the stream below the mark.
/// </summary>
public sealed class RedisHealthCheck(IConnectionMultiplexer redis, IOptions<OverloadOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        string info;
        var start = Stopwatch.GetTimestamp();
        try
        {
            info = (await redis.GetDatabase().ExecuteAsync("INFO", "memory")).ToString();
        }
        catch (Exception exception) when (exception is RedisException or RedisCommandException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis is unreachable: " + exception.Message);
        }

        var latency = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var used = Field(info, "used_memory:");
        var max = Field(info, "maxmemory:");
        if (used is null || max is null)
        {
            return HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"INFO {latency:F1} ms (no memory figures)"));
        }

        if (max == 0)
        {
            return HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture, $"INFO {latency:F1} ms, {Megabytes(used.Value)} used, no maxmemory"));
        }

        var fraction = options.Value.RedisMemoryNotReadyFraction;
        var share = (double)used.Value / max.Value;
        return share > fraction
            ? HealthCheckResult.Unhealthy(string.Create(CultureInfo.InvariantCulture,
                $"Redis is nearly full: it uses {share:P0} of its maxmemory ({Megabytes(used.Value)} of {Megabytes(max.Value)}), above the {fraction:P0} at which this front end stops being ready (Overload:RedisMemoryNotReadyFraction); votes already taken wait for the drainer"))
            : HealthCheckResult.Healthy(string.Create(CultureInfo.InvariantCulture,
                $"INFO {latency:F1} ms, {share:P0} of maxmemory used ({Megabytes(used.Value)} of {Megabytes(max.Value)})"));
    }

    /// <summary>The whole number after <paramref name="name"/> at the start of a line of INFO's answer.</summary>
    private static long? Field(string info, string name)
    {
        var at = info.StartsWith(name, StringComparison.Ordinal) ? 0 : info.IndexOf("\n" + name, StringComparison.Ordinal) + 1;
        if (at == 0 && !info.StartsWith(name, StringComparison.Ordinal))
        {
            return null;
        }

        var value = info.AsSpan(at + name.Length);
        var end = value.IndexOfAny('\r', '\n');
        return long.TryParse(end < 0 ? value : value[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number : null;
    }

    private static string Megabytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F1} MiB");
}
