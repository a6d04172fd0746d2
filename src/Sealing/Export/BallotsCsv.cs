using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Voting.Sealing.Ballots;

namespace Voting.Sealing.Export;

/// <summary>
/// ballots.csv (RFC 4180): the header <c>pseudonym,option,vote_id,frontend_id</c>, then one record per ballot in
/// canonical order; every line, the last one too, ends with CRLF; UTF-8 without a byte order mark. The pseudonym is
/// 32 lowercase hex digits, the vote id a lowercase "D" uuid; the option and the front end id are written as they are,
/// in double quotes (inner quotes doubled) only when they hold a comma, a quote, a CR or an LF.
/// </summary>
public static class BallotsCsv
{
    public const string FileName = "ballots.csv";
    public const string Header = "pseudonym,option,vote_id,frontend_id";

    private const int FlushAt = 1 << 16;

    /// <summary>Writes <paramref name="ballots"/> to <paramref name="destination"/> (null: only hashes them) and returns the file's SHA-256.</summary>
    public static async Task<byte[]> WriteAsync(BallotSet ballots, Stream? destination, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var options = ballots.Options.ToDictionary(o => o, o => Encoding.UTF8.GetBytes(Field(o)), StringComparer.Ordinal);
        var frontends = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var buffer = ArrayPool<byte>.Shared.Rent(FlushAt + 4096);
        try
        {
            var length = Encoding.UTF8.GetBytes(Header + "\r\n", buffer);
            for (var i = 0; i < ballots.Count; i++)
            {
                var ballot = ballots[i];
                var option = options[ballot.Option];
                if (!frontends.TryGetValue(ballot.FrontendId, out var frontend))
                {
                    frontend = Encoding.UTF8.GetBytes(Field(ballot.FrontendId));
                    frontends.Add(ballot.FrontendId, frontend);
                }

                var needed = Pseudonym.HexLength + option.Length + 36 + frontend.Length + 5;
                if (length + needed > buffer.Length)
                {
                    await FlushAsync(buffer, length, hash, destination, cancellationToken);
                    length = 0;
                    if (needed > buffer.Length)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = ArrayPool<byte>.Shared.Rent(needed);
                    }
                }

                length += WriteRecord(ballot, option, frontend, buffer.AsSpan(length));
                if (length >= FlushAt)
                {
                    await FlushAsync(buffer, length, hash, destination, cancellationToken);
                    length = 0;
                }
            }

            await FlushAsync(buffer, length, hash, destination, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return hash.GetHashAndReset();
    }

    /// <summary>A field as RFC 4180 writes it: quoted only when it must be.</summary>
    public static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static int WriteRecord(Ballot ballot, byte[] option, byte[] frontend, Span<byte> destination)
    {
        ballot.Pseudonym.WriteHex(destination);
        var at = Pseudonym.HexLength;
        destination[at++] = (byte)',';
        option.CopyTo(destination[at..]);
        at += option.Length;
        destination[at++] = (byte)',';
        ballot.VoteId.TryFormat(destination[at..], out var written, "D");
        at += written;
        destination[at++] = (byte)',';
        frontend.CopyTo(destination[at..]);
        at += frontend.Length;
        destination[at++] = (byte)'\r';
        destination[at++] = (byte)'\n';
        return at;
    }

    private static async Task FlushAsync(byte[] buffer, int length, IncrementalHash hash, Stream? destination, CancellationToken cancellationToken)
    {
        hash.AppendData(buffer, 0, length);
        if (destination is not null)
        {
            await destination.WriteAsync(buffer.AsMemory(0, length), cancellationToken);
        }
    }
}
