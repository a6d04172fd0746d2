using StackExchange.Redis;
using Voting.Local.Servers;
using Voting.Storage.Streams;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// A front end's Redis runs with ACL users (docs/SECURITY.md): the front end's may only append to its stream, the
/// drainers' may read, acknowledge and trim it, and a connection without credentials can do nothing. Real Redis
/// answers <c>NOPERM</c>.
/// </summary>
public sealed class RedisAclTests : IAsyncLifetime
{
    private RedisServer _redis = null!;

    public async Task InitializeAsync() => _redis = await TestServers.StartRedisAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task TheFrontEndsUserMayAppendToItsStreamAndNothingElse()
    {
        await using var frontend = await _redis.ConnectAsAsync(TestApps.RedisAccounts.Frontend);
        var database = frontend.GetDatabase();
        var id = await database.StreamAddAsync("votes", "vote", "a");
        Assert.False(id.IsNull);

        await AssertRefusedAsync(database.StreamReadGroupAsync("votes", VoteStreamEntry.ConsumerGroup, "c", ">", 10));
        await AssertRefusedAsync(database.StreamRangeAsync("votes"));
        await AssertRefusedAsync(database.StreamDeleteAsync("votes", [id]));
        await AssertRefusedAsync(database.ExecuteAsync("FLUSHALL"));
        await AssertRefusedAsync(database.ExecuteAsync("CONFIG", "GET", "dir"));
        await AssertRefusedAsync(database.StreamAddAsync("another-stream", "vote", "a"));
    }

    [Fact]
    public async Task TheDrainersUserMayReadAcknowledgeAndDeadLetterButNotAppendVotesOrFlush()
    {
        await using (var frontend = await _redis.ConnectAsAsync(TestApps.RedisAccounts.Frontend))
        {
            await frontend.GetDatabase().StreamAddAsync("votes", "vote", "a");
        }

        await using var drainer = await _redis.ConnectAsAsync(TestApps.RedisAccounts.Drainer);
        var database = drainer.GetDatabase();
        await database.StreamCreateConsumerGroupAsync("votes", VoteStreamEntry.ConsumerGroup, StreamPosition.Beginning);
        var read = await database.StreamReadGroupAsync("votes", VoteStreamEntry.ConsumerGroup, "drainer", ">", 10);
        Assert.Single(read);
        await database.StreamAddAsync("votes:dead-letters", read[0].Values);
        Assert.Equal(1, await database.StreamAcknowledgeAsync("votes", VoteStreamEntry.ConsumerGroup, read[0].Id));

        await AssertRefusedAsync(database.StreamAddAsync("votes", "vote", "b"));
        await AssertRefusedAsync(database.ExecuteAsync("FLUSHALL"));
        await AssertRefusedAsync(database.KeyDeleteAsync("votes"));
        await AssertRefusedAsync(database.ExecuteAsync("CONFIG", "SET", "appendonly", "no"));
    }

    [Fact]
    public async Task AConnectionWithoutCredentialsIsRefused()
    {
        // The default user is off: a connection that does not sign in cannot even PING.
        var refused = await Assert.ThrowsAsync<RedisConnectionException>(() => _redis.ConnectAsAsync(credential: null));
        Assert.Contains("auth", refused.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AWrongPasswordIsRefused() =>
        await Assert.ThrowsAsync<RedisConnectionException>(() =>
            _redis.ConnectAsAsync(TestApps.RedisAccounts.Frontend with { Password = "not-the-password" }));

    private static async Task AssertRefusedAsync(Task command)
    {
        var refused = await Assert.ThrowsAsync<RedisServerException>(() => command);
        Assert.StartsWith("NOPERM", refused.Message, StringComparison.Ordinal);
    }
}
