using System.Buffers.Binary;
using System.Net;

namespace Voting.LoadGen.Voters;

/// <summary>
/// The client address each simulated voter presents in <c>X-Forwarded-For</c>, as a CDN or proxy in front of a real
/// deployment would: the front ends (and the balancer) trust the load tool as a proxy hop on loopback, and keep their
/// per-address limits under these addresses, as they would for voters coming from all over. The addresses come from
/// 198.18.0.0/15, the range set aside for benchmarking (RFC 2544), voter after voter, <c>votersPerAddress</c> voters
/// to each address; past its 131,072 addresses they start again at the first.
/// </summary>
public static class SimulatedAddresses
{
    public const string Range = "198.18.0.0/15";

    private const uint First = (198u << 24) | (18u << 16);
    private const int Count = 1 << 17;

    /// <summary>The address of voter <paramref name="voter"/> (0, 1, ...) when <paramref name="votersPerAddress"/> voters share one.</summary>
    public static string For(int voter, int votersPerAddress)
    {
        var slot = (uint)(voter / votersPerAddress % Count);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, First + slot);
        return new IPAddress(bytes).ToString();
    }
}
