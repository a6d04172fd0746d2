using System.Runtime.InteropServices;

namespace Voting.Grains;

/// <summary>Maps a voter id to its voter-identity shard with a hash that is the same in every process.</summary>
public static class VoterShards
{
    public const int DefaultCount = 1024;

    public static int ShardOf(Guid voterId, int shardCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        Span<ulong> halves = stackalloc ulong[2];
        MemoryMarshal.Write(MemoryMarshal.AsBytes(halves), in voterId);
        // Fibonacci hashing of both halves: voter ids are random, but ids from any other source still spread well.
        var mixed = (halves[0] ^ (halves[1] * 0x9E3779B97F4A7C15UL)) * 0x9E3779B97F4A7C15UL;
        return (int)((mixed >> 32) % (uint)shardCount);
    }
}
