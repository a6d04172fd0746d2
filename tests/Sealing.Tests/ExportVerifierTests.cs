using System.Text;
using Voting.Sealing.Export;
using Voting.Sealing.Manifest;
using Voting.Sealing.Verification;

namespace Voting.Sealing.Tests;

/// <summary>The verifier accepts an export as written and refuses every kind of change, naming it.</summary>
public sealed class ExportVerifierTests
{
    private const string SignatureProblem = "the signature of manifest.json does not verify with public-key.pem";

    [Fact]
    public async Task AnExportAsWrittenVerifies()
    {
        var result = await VerifyAsync(await TestSeals.ExportAsync());
        Assert.True(result.Verified, string.Join("\n", result.Problems));
        Assert.Equal([14L, 26L], result.Manifest!.Tallies);
        Assert.Equal(40, result.Manifest.Ballots);
    }

    [Fact]
    public async Task AnEmptyPollVerifies()
    {
        var result = await VerifyAsync(await TestSeals.ExportAsync(count: 0));
        Assert.True(result.Verified, string.Join("\n", result.Problems));
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", result.Manifest!.MerkleRoot);
    }

    [Fact]
    public async Task OneByteOfOneBallotChangedIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        var bytes = File.ReadAllBytes(Ballots(export));
        // Line 6 (the fifth ballot): the last digit of its vote id.
        var at = Nth(bytes, (byte)'\n', 5) - 1 - "frontend0x".Length - 2;
        bytes[at] = bytes[at] == (byte)'0' ? (byte)'1' : (byte)'0';
        File.WriteAllBytes(Ballots(export), bytes);

        var problems = await ProblemsAsync(export);
        Assert.Contains(problems, p => p.StartsWith("ballots.csv's SHA-256 is ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("the Merkle root is ", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.StartsWith(SignatureProblem, StringComparison.Ordinal));
    }

    [Fact]
    public async Task AChangedOptionIsNamedWithItsLine()
    {
        var export = await TestSeals.ExportAsync();
        var lines = ReadLines(export);
        lines[3] = lines[3].Replace(",dogs,", ",cats,", StringComparison.Ordinal).Replace(",cats,", ",cbts,", StringComparison.Ordinal);
        WriteLines(export, lines);

        var problems = await ProblemsAsync(export);
        Assert.Contains("ballots.csv line 4: the option 'cbts' is none of the manifest's (cats, dogs)", problems);
        Assert.Contains(problems, p => p.StartsWith("the number of ballots is 40 in the manifest", StringComparison.Ordinal) || p.StartsWith("the tally for", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABallotRemovedIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        var lines = ReadLines(export);
        var removed = lines[10].Split(',')[1];
        lines.RemoveAt(10);
        WriteLines(export, lines);

        var problems = await ProblemsAsync(export);
        var tally = removed == "cats" ? "the tally for 'cats' is 14 in the manifest, 13 in the ballots" : "the tally for 'dogs' is 26 in the manifest, 25 in the ballots";
        Assert.Contains(tally, problems);
        Assert.Contains("the total is 40 in the manifest, 39 in the ballots", problems);
        Assert.Contains("the number of ballots is 40 in the manifest, 39 in ballots.csv", problems);
        Assert.Contains(problems, p => p.StartsWith("the Merkle root is ", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("the count for front end ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ABallotDuplicatedIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        var lines = ReadLines(export);
        lines.Insert(8, lines[7]);
        WriteLines(export, lines);

        var problems = await ProblemsAsync(export);
        Assert.Contains(problems, p => p.StartsWith("ballots.csv line 9: the pseudonym ", StringComparison.Ordinal) && p.EndsWith("is the previous line's too: one voter twice", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ballots.csv lines 8 and 9 have the same vote id ", StringComparison.Ordinal));
        Assert.Contains("the number of ballots is 40 in the manifest, 41 in ballots.csv", problems);
    }

    [Fact]
    public async Task ABallotAddedIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        var lines = ReadLines(export);
        lines.Add($"ffffffffffffffffffffffffffffffff,cats,{Guid.CreateVersion7()},frontend01");
        WriteLines(export, lines);

        var problems = await ProblemsAsync(export);
        Assert.Contains("the tally for 'cats' is 14 in the manifest, 15 in the ballots", problems);
        Assert.Contains("the total is 40 in the manifest, 41 in the ballots", problems);
        Assert.Contains(problems, p => p.StartsWith("the Merkle root is ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TwoBallotsSwappedAreOutOfOrder()
    {
        var export = await TestSeals.ExportAsync();
        var lines = ReadLines(export);
        (lines[5], lines[6]) = (lines[6], lines[5]);
        WriteLines(export, lines);

        var problems = await ProblemsAsync(export);
        Assert.Contains(problems, p => p.StartsWith("ballots.csv line 7: the pseudonym ", StringComparison.Ordinal) && p.EndsWith("the ballots are not in canonical order", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("the Merkle root is ", StringComparison.Ordinal));
        Assert.DoesNotContain(problems, p => p.StartsWith("the tally", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATallyChangedIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        EditManifest(export, m => m.Replace("\"dogs\":26", "\"dogs\":27", StringComparison.Ordinal));

        var problems = await ProblemsAsync(export);
        Assert.Contains(problems, p => p.StartsWith(SignatureProblem, StringComparison.Ordinal));
        Assert.Contains("the tally for 'dogs' is 27 in the manifest, 26 in the ballots", problems);
        Assert.Contains("the manifest's tallies add up to 41, not its total 40", problems);
    }

    [Fact]
    public async Task TheTotalChangedIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        EditManifest(export, m => m.Replace("\"total\":40", "\"total\":41", StringComparison.Ordinal));

        var problems = await ProblemsAsync(export);
        Assert.Contains(problems, p => p.StartsWith(SignatureProblem, StringComparison.Ordinal));
        Assert.Contains("the total is 41 in the manifest, 40 in the ballots", problems);
    }

    [Fact]
    public async Task TheRootChangedIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        var root = (await VerifyAsync(export)).Manifest!.MerkleRoot;
        var other = (root[0] == '0' ? "1" : "0") + root[1..];
        EditManifest(export, m => m.Replace(root, other, StringComparison.Ordinal));

        var problems = await ProblemsAsync(export);
        Assert.Contains(problems, p => p.StartsWith(SignatureProblem, StringComparison.Ordinal));
        Assert.Contains($"the Merkle root is {other} in the manifest, {root} from the ballots", problems);
    }

    [Fact]
    public async Task TheSignatureChangedIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        var bytes = File.ReadAllBytes(Manifest(export));
        Assert.True(ManifestJson.TrySplit(bytes, out var signedBytes, out var signature, out _));
        signature[10] ^= 0x01;
        File.WriteAllBytes(Manifest(export), ManifestJson.WithSignature(signedBytes, signature));

        Assert.Equal([SignatureProblem + ": the manifest was changed, or signed with another key"], await ProblemsAsync(export));
    }

    [Fact]
    public async Task ADifferentPublicKeyIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        using var other = TestSeals.NewSigningKey();
        File.WriteAllText(Path.Combine(export, SealExport.PublicKeyFile), other.PublicKeyPem);

        Assert.Equal([SignatureProblem + ": the manifest was changed, or signed with another key"], await ProblemsAsync(export));
    }

    [Fact]
    public async Task AMissingFileIsNamed()
    {
        var export = await TestSeals.ExportAsync();
        File.Delete(Path.Combine(export, SealExport.PublicKeyFile));

        Assert.Equal([$"public-key.pem is missing from {export}"], await ProblemsAsync(export));
    }

    [Fact]
    public async Task ALineEndingInLfAloneIsRefused()
    {
        var export = await TestSeals.ExportAsync();
        File.WriteAllText(Ballots(export), File.ReadAllText(Ballots(export)).Replace("\r\n", "\n", StringComparison.Ordinal));

        Assert.Contains("ballots.csv line 1: the line ends with LF alone (lines end with CRLF)", await ProblemsAsync(export));
    }

    private static Task<VerificationResult> VerifyAsync(string export) => ExportVerifier.VerifyAsync(export, CancellationToken.None);

    private static async Task<IReadOnlyList<string>> ProblemsAsync(string export)
    {
        var result = await VerifyAsync(export);
        Assert.False(result.Verified);
        return result.Problems;
    }

    private static string Ballots(string export) => Path.Combine(export, BallotsCsv.FileName);

    private static string Manifest(string export) => Path.Combine(export, SealExport.ManifestFile);

    private static List<string> ReadLines(string export) => [.. File.ReadAllText(Ballots(export)).Split("\r\n")[..^1]];

    private static void WriteLines(string export, List<string> lines) =>
        File.WriteAllText(Ballots(export), string.Concat(lines.Select(l => l + "\r\n")), new UTF8Encoding(false));

    private static void EditManifest(string export, Func<string, string> edit)
    {
        var text = File.ReadAllText(Manifest(export));
        var edited = edit(text);
        Assert.NotEqual(text, edited);
        File.WriteAllText(Manifest(export), edited, new UTF8Encoding(false));
    }

    private static int Nth(byte[] bytes, byte value, int n)
    {
        var at = -1;
        for (var i = 0; i < n; i++)
        {
            at = Array.IndexOf(bytes, value, at + 1);
        }

        return at;
    }
}
