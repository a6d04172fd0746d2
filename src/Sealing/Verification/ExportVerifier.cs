using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Voting.Sealing.Ballots;
using Voting.Sealing.Export;
using Voting.Sealing.Manifest;
using Voting.Sealing.Merkle;

namespace Voting.Sealing.Verification;

/// <summary>
/// Checks an export with nothing but its three files: the signature over the manifest with public-key.pem, the
/// ballots file's SHA-256, its format and strict canonical order (so one ballot per pseudonym), no vote id twice,
/// only the manifest's options; then recomputes the tallies, the total, the counts per front end, the number of
/// ballots and the Merkle root, and compares each with the manifest. Every problem found is named.
/// </summary>
public static class ExportVerifier
{
    /// <summary>How many problems of ballots.csv's lines are named one by one; the rest are counted.</summary>
    public const int LineProblemsNamed = 10;

    public static async Task<VerificationResult> VerifyAsync(string directory, CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        var manifestPath = Path.Combine(directory, SealExport.ManifestFile);
        var keyPath = Path.Combine(directory, SealExport.PublicKeyFile);
        var ballotsPath = Path.Combine(directory, BallotsCsv.FileName);
        foreach (var path in new[] { manifestPath, ballotsPath, keyPath })
        {
            if (!File.Exists(path))
            {
                problems.Add($"{Path.GetFileName(path)} is missing from {directory}");
            }
        }

        if (problems.Count > 0)
        {
            return new VerificationResult(null, problems);
        }

        var file = await File.ReadAllBytesAsync(manifestPath, cancellationToken);
        if (!ManifestJson.TrySplit(file, out var signedBytes, out var signature, out var problem))
        {
            return new VerificationResult(null, [problem]);
        }

        CheckSignature(signedBytes, signature, await File.ReadAllTextAsync(keyPath, cancellationToken), problems);
        SealManifest manifest;
        try
        {
            manifest = ManifestJson.Parse(signedBytes);
        }
        catch (ManifestFormatException e)
        {
            problems.Add(e.Message);
            return new VerificationResult(null, problems);
        }

        CheckRules(manifest, problems);
        var counted = await CountAsync(ballotsPath, manifest, problems, cancellationToken);
        if (counted is not null)
        {
            Compare(manifest, counted, problems);
        }

        return new VerificationResult(manifest, problems);
    }

    private static void CheckSignature(byte[] signedBytes, byte[] signature, string publicKeyPem, List<string> problems)
    {
        if (ManifestSignature.Problem(signedBytes, signature, publicKeyPem) is { } problem)
        {
            problems.Add(problem);
        }
    }

    private static void CheckRules(SealManifest manifest, List<string> problems)
    {
        if (manifest.Format != SealManifest.CurrentFormat)
        {
            problems.Add($"manifest.json's format is '{manifest.Format}'; this verifier reads {SealManifest.CurrentFormat}");
        }

        if (manifest.Leaf != BallotLine.Rule)
        {
            problems.Add($"manifest.json's leaf rule is '{manifest.Leaf}'; this verifier knows {BallotLine.Rule}");
        }

        if (manifest.Tree != MerkleHash.Rule)
        {
            problems.Add($"manifest.json's tree rule is '{manifest.Tree}'; this verifier knows {MerkleHash.Rule}");
        }
    }

    /// <summary>Reads ballots.csv once: its hash, format, order and the counts and root it makes; null when it cannot be read to the end.</summary>
    private static async Task<Counted?> CountAsync(string path, SealManifest manifest, List<string> problems, CancellationToken cancellationToken)
    {
        var options = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < manifest.Options.Count; i++)
        {
            options.TryAdd(manifest.Options[i], i);
        }

        var tallies = new long[manifest.Options.Count];
        var frontends = new SortedDictionary<string, long>(StringComparer.Ordinal);
        var voteIds = new List<(Guid VoteId, long Line)>();
        var root = new MerkleRootBuilder();
        var lineProblems = 0;
        void LineProblem(long line, string what)
        {
            if (++lineProblems <= LineProblemsNamed)
            {
                problems.Add($"{BallotsCsv.FileName} line {line.ToString("N0", CultureInfo.InvariantCulture)}: {what}");
            }
        }

        using var sha256 = SHA256.Create();
        string sha;
        await using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true))
        await using (var hashing = new CryptoStream(file, sha256, CryptoStreamMode.Read))
        using (var text = new StreamReader(hashing, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false, 1 << 16))
        {
            var csv = new CsvRecordReader(text);
            try
            {
                var header = csv.Read();
                if (header is null || string.Join(",", header) != BallotsCsv.Header)
                {
                    problems.Add($"{BallotsCsv.FileName} line 1 is not the header {BallotsCsv.Header}");
                    return null;
                }

                Pseudonym? previous = null;
                var leaf = new byte[1024];
                while (csv.Read() is { } fields)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var line = csv.Line;
                    if (fields.Count != 4)
                    {
                        LineProblem(line, $"{fields.Count} fields, not 4");
                        continue;
                    }

                    if (!Pseudonym.TryParse(fields[0], out var pseudonym))
                    {
                        LineProblem(line, $"the pseudonym '{fields[0]}' is not 32 lowercase hex digits");
                        continue;
                    }

                    if (previous is { } before && pseudonym <= before)
                    {
                        LineProblem(line, pseudonym == before
                            ? $"the pseudonym {pseudonym} is the previous line's too: one voter twice"
                            : $"the pseudonym {pseudonym} comes before the previous line's {before}: the ballots are not in canonical order");
                    }

                    previous = pseudonym;
                    if (!options.TryGetValue(fields[1], out var option))
                    {
                        LineProblem(line, $"the option '{fields[1]}' is none of the manifest's ({string.Join(", ", manifest.Options)})");
                    }
                    else
                    {
                        tallies[option]++;
                    }

                    if (fields[2].Length != 36 || !Guid.TryParseExact(fields[2], "D", out var voteId) || fields[2] != voteId.ToString("D"))
                    {
                        LineProblem(line, $"the vote id '{fields[2]}' is not a lowercase uuid");
                        continue;
                    }

                    voteIds.Add((voteId, line));
                    if (fields[3].Length == 0)
                    {
                        LineProblem(line, "the front end id is empty");
                    }
                    else
                    {
                        frontends[fields[3]] = frontends.GetValueOrDefault(fields[3]) + 1;
                    }

                    var optionBytes = Encoding.UTF8.GetBytes(fields[1]);
                    if (leaf.Length < BallotLine.MaxLength("") + optionBytes.Length)
                    {
                        leaf = new byte[BallotLine.MaxLength("") + optionBytes.Length];
                    }

                    root.AddLeaf(leaf.AsSpan(0, BallotLine.Write(pseudonym, voteId, optionBytes, leaf)));
                }
            }
            catch (CsvFormatException e)
            {
                problems.Add($"{BallotsCsv.FileName} line {e.Line.ToString("N0", CultureInfo.InvariantCulture)}: {e.Message}");
                return null;
            }
            catch (DecoderFallbackException)
            {
                problems.Add($"{BallotsCsv.FileName} is not UTF-8");
                return null;
            }

            // The hash is complete once the reader saw the end of the file.
            _ = await text.ReadToEndAsync(cancellationToken);
            sha = Convert.ToHexStringLower(sha256.Hash!);
        }

        if (lineProblems > LineProblemsNamed)
        {
            problems.Add($"{BallotsCsv.FileName}: {(lineProblems - LineProblemsNamed).ToString("N0", CultureInfo.InvariantCulture)} more problems on other lines");
        }

        voteIds.Sort((a, b) => a.VoteId.CompareTo(b.VoteId));
        for (var i = 1; i < voteIds.Count; i++)
        {
            if (voteIds[i].VoteId == voteIds[i - 1].VoteId)
            {
                problems.Add($"{BallotsCsv.FileName} lines {Math.Min(voteIds[i - 1].Line, voteIds[i].Line).ToString("N0", CultureInfo.InvariantCulture)} and "
                    + $"{Math.Max(voteIds[i - 1].Line, voteIds[i].Line).ToString("N0", CultureInfo.InvariantCulture)} have the same vote id {voteIds[i].VoteId}");
            }
        }

        return new Counted(sha, tallies, frontends, root.Count, Convert.ToHexStringLower(root.Root()));
    }

    private static void Compare(SealManifest manifest, Counted counted, List<string> problems)
    {
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        if (counted.Sha256 != manifest.BallotsSha256)
        {
            problems.Add($"{BallotsCsv.FileName}'s SHA-256 is {counted.Sha256}; the manifest says {manifest.BallotsSha256}");
        }

        for (var i = 0; i < manifest.Options.Count; i++)
        {
            if (manifest.Tallies[i] != counted.Tallies[i])
            {
                problems.Add($"the tally for '{manifest.Options[i]}' is {N(manifest.Tallies[i])} in the manifest, {N(counted.Tallies[i])} in the ballots");
            }
        }

        var total = counted.Tallies.Sum();
        if (manifest.Total != total)
        {
            problems.Add($"the total is {N(manifest.Total)} in the manifest, {N(total)} in the ballots");
        }

        if (manifest.Tallies.Sum() != manifest.Total)
        {
            problems.Add($"the manifest's tallies add up to {N(manifest.Tallies.Sum())}, not its total {N(manifest.Total)}");
        }

        var stated = manifest.Frontends.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        foreach (var frontend in stated.Keys.Union(counted.Frontends.Keys).Order(StringComparer.Ordinal))
        {
            var inManifest = stated.GetValueOrDefault(frontend);
            var inBallots = counted.Frontends.GetValueOrDefault(frontend);
            if (inManifest != inBallots)
            {
                problems.Add($"the count for front end '{frontend}' is {N(inManifest)} in the manifest, {N(inBallots)} in the ballots");
            }
        }

        if (manifest.Ballots != counted.Ballots)
        {
            problems.Add($"the number of ballots is {N(manifest.Ballots)} in the manifest, {N(counted.Ballots)} in {BallotsCsv.FileName}");
        }

        if (counted.Root != manifest.MerkleRoot)
        {
            problems.Add($"the Merkle root is {manifest.MerkleRoot} in the manifest, {counted.Root} from the ballots");
        }
    }

    private sealed record Counted(string Sha256, long[] Tallies, SortedDictionary<string, long> Frontends, long Ballots, string Root);
}

/// <summary>What <see cref="ExportVerifier"/> found: nothing (the export checks out) or each problem, in words.</summary>
public sealed record VerificationResult(SealManifest? Manifest, IReadOnlyList<string> Problems)
{
    public bool Verified => Problems.Count == 0;
}
