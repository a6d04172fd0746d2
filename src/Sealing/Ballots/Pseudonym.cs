using System.Buffers.Binary;
using System.Globalization;

namespace Voting.Sealing.Ballots;

/// <summary>
/// A voter's name in the sealed count: the first 16 bytes of HMAC-SHA256 over the voter id, under the poll's
/// pseudonym key (<see cref="PseudonymKey"/>). Held as two 64-bit halves, big-endian, so that comparing them orders
/// pseudonyms exactly as their lowercase hex strings compare ordinally: the canonical order of the ballots.
/// </summary>
public readonly record struct Pseudonym(ulong High, ulong Low) : IComparable<Pseudonym>
{
    public const int Length = 16;
    public const int HexLength = 2 * Length;

    public int CompareTo(Pseudonym other) => High != other.High ? High.CompareTo(other.High) : Low.CompareTo(other.Low);

    public static bool operator <(Pseudonym left, Pseudonym right) => left.CompareTo(right) < 0;
    public static bool operator >(Pseudonym left, Pseudonym right) => left.CompareTo(right) > 0;
    public static bool operator <=(Pseudonym left, Pseudonym right) => left.CompareTo(right) <= 0;
    public static bool operator >=(Pseudonym left, Pseudonym right) => left.CompareTo(right) >= 0;

    public static Pseudonym FromBytes(ReadOnlySpan<byte> bytes) =>
        new(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));

    /// <summary>The 16 bytes, big-endian.</summary>
    public void WriteBytes(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, High);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], Low);
    }

    /// <summary>The 32 lowercase hex digits, written into <paramref name="destination"/> (32 bytes of ASCII).</summary>
    public void WriteHex(Span<byte> destination)
    {
        Span<byte> bytes = stackalloc byte[Length];
        WriteBytes(bytes);
        Convert.TryToHexStringLower(bytes, destination, out _);
    }

    public override string ToString() => High.ToString("x16", CultureInfo.InvariantCulture) + Low.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Parses exactly 32 lowercase hex digits; anything else (upper case included) is not a pseudonym.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out Pseudonym pseudonym)
    {
        pseudonym = default;
        if (text.Length != HexLength)
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        pseudonym = new Pseudonym(
            ulong.Parse(text[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture),
            ulong.Parse(text[16..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
        return true;
    }
}
