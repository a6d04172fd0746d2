namespace Voting.Grains.Identity;

/// <summary>Settings of the voter-identity shards (section <c>VoterIdentity</c>).</summary>
public sealed class VoterIdentityOptions
{
    public const string SectionName = "VoterIdentity";

    /// <summary>
    /// How many voters one shard remembers before it forgets the least recently seen. With the default 1024 shards,
    /// 8192 per shard bounds the worker silo's memory for voters to about 8.4 million entries.
    /// </summary>
    public int MaxVotersPerShard { get; set; } = 8192;
}
