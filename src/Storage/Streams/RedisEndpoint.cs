using StackExchange.Redis;

namespace Voting.Storage.Streams;

/// <summary>Endpoints of front-end Redis servers, as settings and the registry carry them.</summary>
public static class RedisEndpoint
{
    /// <summary>
    /// Whether a StackExchange.Redis configuration string carries a user or password (<c>user=</c>,
    /// <c>password=</c>). Endpoints are logged, kept in the registry's grain state and shown by the management API:
    /// credentials have settings of their own.
    /// </summary>
    public static bool HoldsCredentials(string? endpoint)
    {
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return false;
        }

        try
        {
            var configuration = ConfigurationOptions.Parse(endpoint, ignoreUnknown: true);
            return !string.IsNullOrEmpty(configuration.User) || !string.IsNullOrEmpty(configuration.Password);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
