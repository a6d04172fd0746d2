using System.Globalization;
using System.Text;
using Voting.Sealing.Receipts;

namespace Voting.LoadGen.Receipts;

/// <summary>One acknowledged vote's receipt as its voter keeps it: the vote id, and the option it was for.</summary>
public readonly record struct KeptReceipt(Guid VoteId, string Option);

/// <summary>A simulated voter's receipts.</summary>
/// <param name="Voter">The voter's number in the load run.</param>
/// <param name="Code">The voter's receipt code, the same on every vote of theirs.</param>
/// <param name="Votes">Each acknowledged vote's receipt.</param>
/// <param name="Uncertain">A vote of theirs went unanswered: their counted ballot may be that one.</param>
/// <param name="Address">
/// The client address the voter presented in <c>X-Forwarded-For</c> (<see cref="LoadOptions.AddressOf"/>), which their
/// receipt lookups present too: the results app's limits per address grant each simulated voter what a real one gets.
/// Null: the tool's own address.
/// </param>
public sealed record VoterReceipts(int Voter, ReceiptCode Code, IReadOnlyList<KeptReceipt> Votes, bool Uncertain, string? Address = null)
{
    /// <summary>
    /// The latest acknowledged vote: the greatest vote id. A vote id is a UUIDv7 whose first 48 bits are its server
    /// timestamp, and <see cref="Guid.CompareTo(Guid)"/> orders such ids as the system orders a voter's votes (time, then id).
    /// </summary>
    public KeptReceipt Latest => Votes.MaxBy(v => v.VoteId);

    /// <summary>The receipts of votes the latest one superseded.</summary>
    public IEnumerable<KeptReceipt> Superseded => Votes.Where(v => v.VoteId != Latest.VoteId);
}

/// <summary>
/// The receipts a load run kept, as a file (<c>--receipts FILE</c>) that the receipts check reads once the poll is
/// sealed: CSV, a header, then one line per acknowledged vote with a receipt —
/// <c>voter,vote_id,option,code,uncertain,address</c> (the voter's number in the run, not their id; the client address
/// they presented, empty for the tool's own). A file of an earlier version, without the address, still reads.
/// </summary>
public static class ReceiptFile
{
    public const string Header = "voter,vote_id,option,code,uncertain,address";

    /// <summary>The header of files kept before the address was: their voters look up from the tool's own address.</summary>
    private const string HeaderWithoutAddress = "voter,vote_id,option,code,uncertain";

    public static async Task WriteAsync(string path, IEnumerable<VoterReceipts> voters, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        await writer.WriteLineAsync(Header);
        foreach (var voter in voters)
        {
            foreach (var vote in voter.Votes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{voter.Voter},{vote.VoteId:D},{vote.Option},{voter.Code},{(voter.Uncertain ? 1 : 0)},{voter.Address}"));
            }
        }
    }

    /// <summary>The voters' receipts in <paramref name="path"/>.</summary>
    /// <exception cref="FormatException">A line is not a receipt; the message names it.</exception>
    public static async Task<IReadOnlyList<VoterReceipts>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var voters = new Dictionary<int, (ReceiptCode Code, List<KeptReceipt> Votes, bool Uncertain, string? Address)>();
        var number = 0;
        var fieldCount = 6;
        await foreach (var line in File.ReadLinesAsync(path, cancellationToken))
        {
            if (++number == 1)
            {
                if (line == HeaderWithoutAddress)
                {
                    fieldCount = 5;
                }
                else if (line != Header)
                {
                    throw new FormatException($"{path} is not a receipts file: its first line is not '{Header}'.");
                }

                continue;
            }

            var fields = line.Split(',');
            var address = fieldCount == 6 && fields.Length == 6 && fields[5].Length > 0 ? fields[5] : null;
            if (fields.Length != fieldCount
                || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var voter)
                || !Guid.TryParseExact(fields[1], "D", out var voteId)
                || fields[2].Length == 0
                || !ReceiptCode.TryParse(fields[3], out var code)
                || fields[4] is not ("0" or "1")
                || (address is not null && !System.Net.IPAddress.TryParse(address, out _)))
            {
                throw new FormatException($"{path} line {number.ToString(CultureInfo.InvariantCulture)} is not a receipt ({Header}).");
            }

            if (!voters.TryGetValue(voter, out var entry))
            {
                entry = (code.Value, [], fields[4] == "1", address);
                voters[voter] = entry;
            }
            else if (entry.Code != code.Value)
            {
                throw new FormatException($"{path} line {number.ToString(CultureInfo.InvariantCulture)}: voter {voter.ToString(CultureInfo.InvariantCulture)} has two codes.");
            }

            entry.Votes.Add(new KeptReceipt(voteId, fields[2]));
        }

        return [.. voters.OrderBy(v => v.Key).Select(v => new VoterReceipts(v.Key, v.Value.Code, v.Value.Votes, v.Value.Uncertain, v.Value.Address))];
    }
}
