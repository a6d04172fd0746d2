using StackExchange.Redis;

namespace Voting.Grains.Draining;

/// <summary>Whether a drainer may stop for good: only once nothing waits in its front end's stream, unless forced.</summary>
internal static class RetirementDecision
{
    /// <summary>Reads the backlog of <paramref name="frontend"/>'s stream now and decides.</summary>
    public static async Task<DrainerRetirement> DecideAsync(RedisConnections redisConnections, FrontendInfo frontend, bool force)
    {
        StreamBacklog backlog;
        try
        {
            // Read now, not the last measurement: a vote added since then must keep the drainer running. A commit
            // in flight (the retiring call interleaves with the timer) shows as pending and keeps it running too.
            backlog = await StreamBacklog.ReadAsync(await redisConnections.GetDatabaseAsync(frontend.RedisEndpoint), frontend.StreamKey);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            if (!force)
            {
                return new DrainerRetirement(false, -1, -1, e.Message);
            }

            backlog = new StreamBacklog(-1, -1, null);
        }

        return backlog.Waiting != 0 && !force
            ? new DrainerRetirement(false, backlog.Waiting, backlog.Pending, null)
            : new DrainerRetirement(true, backlog.Waiting, backlog.Pending, null);
    }
}
