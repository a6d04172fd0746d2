namespace Voting.Grains.Draining;

/// <summary>
/// Asks the voter-identity shards for a verdict on every vote of a batch: the votes grouped by shard, one call per
/// shard, all shards at once.
/// </summary>
internal sealed class VoteJudge(IGrainFactory grainFactory, int shardCount)
{
    /// <summary>Keeps in <paramref name="batch"/> the votes that must be written: one per voter, the latest.</summary>
    public async Task<DrainBatch> JudgeAsync(DrainBatch batch)
    {
        var votes = batch.Votes;
        var byShard = new Dictionary<int, List<int>>();
        for (var i = 0; i < votes.Count; i++)
        {
            var shard = VoterShards.ShardOf(votes[i].VoterId, shardCount);
            if (!byShard.TryGetValue(shard, out var indexes))
            {
                byShard[shard] = indexes = [];
            }

            indexes.Add(i);
        }

        var calls = new List<Task>(byShard.Count);
        var keep = new bool[votes.Count];
        foreach (var (shard, indexes) in byShard)
        {
            calls.Add(JudgeShardAsync(shard, indexes));
        }

        await Task.WhenAll(calls);
        batch.Keep(keep);
        return batch;

        async Task JudgeShardAsync(int shard, List<int> indexes)
        {
            var shardVotes = new Vote[indexes.Count];
            for (var i = 0; i < indexes.Count; i++)
            {
                shardVotes[i] = votes[indexes[i]];
            }

            var verdicts = await grainFactory.GetGrain<IVoterIdentityGrain>(shard).JudgeAsync(new VoteBatch(shardVotes));
            for (var i = 0; i < indexes.Count; i++)
            {
                keep[indexes[i]] = verdicts[i].MustBeWritten();
            }
        }
    }
}
