using System.Text;

namespace Voting.Sealing.Ballots;

/// <summary>
/// The Merkle leaf of a ballot, rule <c>ballot-line-v1</c>: the UTF-8 bytes of
/// <c>pseudonym "," vote-id "," option</c> — the pseudonym as 32 lowercase hex digits, the vote id as a lowercase
/// "D" uuid (36 characters), the option as it is, no quoting, no line end. The two fixed-length fields come first,
/// so an option that holds a comma is still unambiguous.
/// </summary>
public static class BallotLine
{
    public const string Rule = "ballot-line-v1";

    private const int FixedLength = Pseudonym.HexLength + 1 + 36 + 1;

    /// <summary>The most bytes <see cref="Write"/> needs for <paramref name="option"/>.</summary>
    public static int MaxLength(string option) => FixedLength + Encoding.UTF8.GetMaxByteCount(option.Length);

    /// <summary>Writes the leaf's bytes into <paramref name="destination"/> and returns how many.</summary>
    public static int Write(Pseudonym pseudonym, Guid voteId, ReadOnlySpan<byte> optionUtf8, Span<byte> destination)
    {
        pseudonym.WriteHex(destination);
        destination[Pseudonym.HexLength] = (byte)',';
        voteId.TryFormat(destination[(Pseudonym.HexLength + 1)..], out _, "D");
        destination[FixedLength - 1] = (byte)',';
        optionUtf8.CopyTo(destination[FixedLength..]);
        return FixedLength + optionUtf8.Length;
    }

    /// <summary>The leaf's bytes of <paramref name="ballot"/>.</summary>
    public static byte[] Of(Ballot ballot)
    {
        var option = Encoding.UTF8.GetBytes(ballot.Option);
        var bytes = new byte[FixedLength + option.Length];
        Write(ballot.Pseudonym, ballot.VoteId, option, bytes);
        return bytes;
    }
}
