using System.Diagnostics.CodeAnalysis;
using Voting.Sealing.Ballots;

namespace Voting.Sealing.Receipts;

/// <summary>
/// The short code on a voter's receipt: the first 60 bits of their pseudonym, as twelve Crockford base32 characters
/// in three groups (<c>7QK2-M9XD-4HRA</c>). Every vote of one voter has the same code, so a receipt for a vote that a
/// later one superseded still finds the voter's ballot in the seal; with the vote id beside it, a lookup needs both to
/// name one ballot. It names a ballot in the published export, no more: whoever holds a receipt can find its ballot
/// there, as with the vote id — a receipt is the voter's to keep, and it says nothing about anyone else.
/// </summary>
public readonly record struct ReceiptCode
{
    /// <summary>Characters of the code, without the hyphens.</summary>
    public const int Length = 12;

    private const int Bits = 5 * Length;
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    private ReceiptCode(ulong value) => Value = value;

    /// <summary>The code's 60 bits: the pseudonym's first 60.</summary>
    public ulong Value { get; }

    /// <summary>The code of the voter with <paramref name="pseudonym"/>.</summary>
    public static ReceiptCode Of(Pseudonym pseudonym) => new(pseudonym.High >> (64 - Bits));

    /// <summary>Whether <paramref name="pseudonym"/> begins with this code.</summary>
    public bool Matches(Pseudonym pseudonym) => pseudonym.High >> (64 - Bits) == Value;

    /// <summary>The first pseudonym that begins with this code; every one that does lies between this and <see cref="Last"/>.</summary>
    public Pseudonym First => new(Value << (64 - Bits), 0);

    /// <summary>The last pseudonym that begins with this code.</summary>
    public Pseudonym Last => new((Value << (64 - Bits)) | (ulong.MaxValue >> Bits), ulong.MaxValue);

    /// <summary>
    /// Parses a code as a voter may type it: case does not matter, hyphens and spaces are ignored, and the letters
    /// Crockford's alphabet leaves out are read as the digits they resemble (I and L as 1, O as 0). Anything else, or
    /// another number of characters, is not a code.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out ReceiptCode? code)
    {
        code = null;
        ulong value = 0;
        var count = 0;
        foreach (var c in text)
        {
            if (c is '-' or ' ')
            {
                continue;
            }

            var digit = DigitOf(c);
            if (digit < 0 || ++count > Length)
            {
                return false;
            }

            value = (value << 5) | (uint)digit;
        }

        if (count != Length)
        {
            return false;
        }

        code = new ReceiptCode(value);
        return true;
    }

    /// <summary>The code as printed on a receipt: <c>XXXX-XXXX-XXXX</c>.</summary>
    public override string ToString() =>
        string.Create(Length + 2, Value, static (chars, value) =>
        {
            var position = chars.Length;
            for (var i = 0; i < Length; i++)
            {
                if (i is 4 or 8)
                {
                    chars[--position] = '-';
                }

                chars[--position] = Alphabet[(int)(value & 31)];
                value >>= 5;
            }
        });

    private static int DigitOf(char c) => char.ToUpperInvariant(c) switch
    {
        'I' or 'L' => 1,
        'O' => 0,
        var upper => Alphabet.IndexOf(upper),
    };
}
