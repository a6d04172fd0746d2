namespace Voting.Web.Frontend;

/// <summary>Who this front end is and where its votes go (section <c>Frontend</c>).</summary>
public sealed class FrontendOptions
{
    public const string SectionName = "Frontend";

    /// <summary>This front end's id, e.g. <c>frontend01</c>; also the key of its drainer.</summary>
    public string Id { get; set; } = "";

    /// <summary>This front end's own Redis, as a StackExchange.Redis configuration string (<c>127.0.0.1:6379</c>).</summary>
    public string Redis { get; set; } = "";

    /// <summary>
    /// The Redis ACL user this front end connects as (one that may only append to its stream); none: Redis's
    /// <c>default</c> user, for a Redis without ACLs.
    /// </summary>
    public string? RedisUser { get; set; }

    /// <summary>
    /// <see cref="RedisUser"/>'s password: a setting of its own, never part of <see cref="Redis"/>, which is logged and
    /// registered with the cluster.
    /// </summary>
    public string? RedisPassword { get; set; }

    /// <summary>How the worker tier reaches that Redis (<c>host:port</c>); the same as <see cref="Redis"/> when empty.</summary>
    public string? RedisAdvertisedEndpoint { get; set; }

    /// <summary>
    /// Where load balancers reach this front end (<c>http://host:port/</c>), announced with its registration. When
    /// empty, the first of the server's <c>Urls</c> — unless that one listens on every interface, which says nothing
    /// about how others reach it.
    /// </summary>
    public string? AdvertisedUrl { get; set; }

    /// <summary>The stream votes are appended to.</summary>
    public string StreamKey { get; set; } = "votes";

    /// <summary>How long a vote may wait for Redis before the voter is told to retry.</summary>
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the front end re-registers with the cluster (which also revives its drainer).</summary>
    public TimeSpan RegistrationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The <c>Retry-After</c> sent with a 503 when a vote could not be recorded.</summary>
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Largest accepted request body; a vote is a few bytes.</summary>
    public int MaxRequestBodyBytes { get; set; } = 1024;

    public string AdvertisedRedisEndpoint => string.IsNullOrWhiteSpace(RedisAdvertisedEndpoint) ? Redis : RedisAdvertisedEndpoint;

    /// <summary>
    /// <see cref="AdvertisedUrl"/>, or else the first of <paramref name="urls"/> (the server's <c>Urls</c> setting) if it
    /// names a host; null when neither says how this front end is reached.
    /// </summary>
    public Uri? EffectiveAdvertisedUrl(string? urls)
    {
        var candidate = string.IsNullOrWhiteSpace(AdvertisedUrl)
            ? urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            : AdvertisedUrl.Trim();
        if (candidate is null || !Uri.TryCreate(candidate, UriKind.Absolute, out var url)
            || url.Scheme is not ("http" or "https") || url.Host is "" or "+" or "*" or "0.0.0.0" or "[::]" or "::")
        {
            return null;
        }

        return new Uri(url.GetLeftPart(UriPartial.Authority) + "/");
    }
}
