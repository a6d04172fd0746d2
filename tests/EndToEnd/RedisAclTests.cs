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

    /// <summary>
    /// Redis 7.0 replays the append-only file's transactions as the <c>default</c> user, checking each queued command
    /// against that user's rules: a drainer's read of several entries (kept in the file as one transaction of
    /// <c>XCLAIM</c>s) and a script's effects must come back after a restart, or the entries delivered and not yet
    /// acknowledged are forgotten while a later one-entry read keeps the group past them (RedisAccounts.DefaultUser).
    /// </summary>
    [Fact]
    public async Task WhatTheDrainersDidSurvivesARestartFromTheAppendOnlyFile()
    {
        await using (var frontend = await _redis.ConnectAsAsync(TestApps.RedisAccounts.Frontend))
        {
            for (var i = 0; i < 6; i++)
            {
                await frontend.GetDatabase().StreamAddAsync("votes", "vote", i);
            }
        }

        StreamEntry[] several, one;
        await using (var drainer = await _redis.ConnectAsAsync(TestApps.RedisAccounts.Drainer))
        {
            var database = drainer.GetDatabase();
            await database.StreamCreateConsumerGroupAsync("votes", VoteStreamEntry.ConsumerGroup, StreamPosition.Beginning);
            several = await database.StreamReadGroupAsync("votes", VoteStreamEntry.ConsumerGroup, "drainer", ">", 2);
            one = await database.StreamReadGroupAsync("votes", VoteStreamEntry.ConsumerGroup, "drainer", ">", 1);
            Assert.Equal(1, await database.StreamAcknowledgeAsync("votes", VoteStreamEntry.ConsumerGroup, several[0].Id));
            // A script's effects are kept as a transaction too: trim the acknowledged first entry.
            await database.ScriptEvaluateAsync("return redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])", ["votes"], [several[1].Id]);
        }

        await _redis.StopAsync();
        await _redis.RestartAsync();

        await using var restarted = await _redis.ConnectAsAsync(TestApps.RedisAccounts.Drainer);
        var again = restarted.GetDatabase();
        var pending = await again.StreamPendingMessagesAsync("votes", VoteStreamEntry.ConsumerGroup, 10, "drainer");
        Assert.Equal([several[1].Id, one[0].Id], pending.Select(p => p.MessageId));
        Assert.Equal(5, await again.StreamLengthAsync("votes"));
        var rest = await again.StreamReadGroupAsync("votes", VoteStreamEntry.ConsumerGroup, "drainer", ">", 10);
        Assert.Equal(3, rest.Length);
        Assert.DoesNotContain("CRITICAL", await File.ReadAllTextAsync(_redis.Process!.LogPath), StringComparison.Ordinal);
    }

    /// <summary>The stack's Redis image writes the same <c>default</c> user as the local system's (deploy/swarm/redis/entrypoint.sh).</summary>
    [Fact]
    public void TheStacksRedisHasTheSameDefaultUser()
    {
        var entrypoint = File.ReadAllLines(Path.Combine(Voting.Local.Repository.Root, "deploy", "swarm", "redis", "entrypoint.sh"));
        Assert.Contains(RedisAccounts.DefaultUser, entrypoint);
    }

    private static async Task AssertRefusedAsync(Task command)
    {
        var refused = await Assert.ThrowsAsync<RedisServerException>(() => command);
        Assert.StartsWith("NOPERM", refused.Message, StringComparison.Ordinal);
    }
}
