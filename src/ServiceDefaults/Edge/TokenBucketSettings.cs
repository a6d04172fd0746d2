using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Configuration;

namespace Voting.ServiceDefaults.Edge;

/// <summary>
/// A per-client token bucket, as settings: <see cref="Permits"/> at once (the burst), refilled by <see cref="Refill"/>
/// every <see cref="Period"/>. The front ends' limits against ballot stuffing and the results app's limits are these.
/// </summary>
public sealed class TokenBucketSettings
{
    /// <summary>The bucket's size: requests taken at once before the limit bites.</summary>
    public int Permits { get; set; }

    /// <summary>Permits added back per <see cref="Period"/>, spread evenly over it (not all at its end).</summary>
    public int Refill { get; set; }

    public TimeSpan Period { get; set; }

    /// <summary>The finest step the partitioned limiter replenishes at (it ticks every 100 ms).</summary>
    internal static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The library's options for this bucket, refilled smoothly: one permit every <c>Period / Refill</c>, or as many
    /// as are due every 100 ms when that is shorter. No queue: a request over the limit is answered at once.
    /// </summary>
    public System.Threading.RateLimiting.TokenBucketRateLimiterOptions ToLimiterOptions()
    {
        var perPermit = Period / Refill;
        var (period, tokens) = perPermit >= Step ? (perPermit, 1) : (Step, (int)Math.Ceiling(Refill * (Step / Period)));
        return new()
        {
            TokenLimit = Permits,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }
}

/// <summary>Start-up validation of <see cref="TokenBucketSettings"/>, each failure naming its setting.</summary>
public static class TokenBucketValidation
{
    /// <summary>
    /// Validates the bucket <paramref name="bucket"/> selects, whose settings are under <paramref name="key"/>
    /// (e.g. <c>Limits:Identities</c>): its permits, refill and period.
    /// </summary>
    public static OptionsBuilder<TOptions> ValidateTokenBucket<TOptions>(
        this OptionsBuilder<TOptions> options, string key, Func<TOptions, TokenBucketSettings> bucket)
        where TOptions : class =>
        options
            .Validate(o => bucket(o).Permits is >= 1 and <= 1_000_000,
                SettingsValidation.Invalid(key + ":Permits", "must be a whole number from 1 to 1000000 (requests taken at once before the limit bites)."))
            .Validate(o => bucket(o).Refill is >= 1 and <= 1_000_000,
                SettingsValidation.Invalid(key + ":Refill", "must be a whole number from 1 to 1000000 (permits given back per period)."))
            .Validate(o => bucket(o).Period >= TimeSpan.FromSeconds(1) && bucket(o).Period <= TimeSpan.FromDays(1),
                SettingsValidation.Invalid(key + ":Period", "must be from 00:00:01 to 1.00:00:00 (the time over which Refill permits come back)."));
}
