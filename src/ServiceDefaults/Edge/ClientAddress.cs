using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Voting.ServiceDefaults.Edge;

/// <summary>
/// The key a client's address limits are kept under: an IPv4 address as it is, an IPv6 address by its /64 prefix
/// (a subscriber gets a /64 or more, so the 2^64 addresses inside one are one client), an IPv4-mapped IPv6 address as
/// the IPv4 address it maps.
/// </summary>
public static class ClientAddress
{
    /// <summary>The key of an address; every unknown address (none, or another family) shares one key.</summary>
    public static UInt128 Key(IPAddress? address)
    {
        if (address is null)
        {
            return UInt128.MaxValue;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        switch (address.AddressFamily)
        {
            case AddressFamily.InterNetwork:
                // As ::ffff:a.b.c.d, in the low half: never the key of an IPv6 /64, whose low half is zero.
                address.TryWriteBytes(bytes[12..], out _);
                return new UInt128(0, 0xFFFF_0000_0000UL | BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]));
            case AddressFamily.InterNetworkV6:
                address.TryWriteBytes(bytes, out _);
                return new UInt128(BinaryPrimitives.ReadUInt64BigEndian(bytes), 0);
            default:
                return UInt128.MaxValue;
        }
    }
}
