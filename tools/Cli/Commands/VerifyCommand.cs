using System.CommandLine;
using System.Globalization;
using Voting.Sealing.Verification;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting verify DIR</c>: checks a sealed poll's export with nothing but its files (manifest.json, ballots.csv,
/// public-key.pem; docs/SEALING.md). Exit 0 only when everything checks out; otherwise each problem, named, and 1.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("directory") { Description = "the export: manifest.json, ballots.csv and public-key.pem" };
        var command = new Command("verify", "check a sealed poll's export: the signature, the ballots, the tallies and the Merkle root") { directory };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(directory)!, cancellationToken));
        return command;
    }

    /// <summary>Verifies the export in <paramref name="directory"/> and reports it: 0 only when everything checks out.</summary>
    internal static async Task<int> RunAsync(DirectoryInfo directory, CancellationToken cancellationToken)
    {
        if (!directory.Exists)
        {
            throw new CliException($"{directory.FullName} is not a directory");
        }

        var result = await ExportVerifier.VerifyAsync(directory.FullName, cancellationToken);
        if (!result.Verified)
        {
            foreach (var problem in result.Problems)
            {
                await Console.Error.WriteLineAsync("voting: " + problem);
            }

            await Console.Error.WriteLineAsync($"voting: the export in {directory.FullName} does NOT verify ({result.Problems.Count} problem(s) above)");
            return VotingCommandLine.Failed;
        }

        var manifest = result.Manifest!;
        static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
        Console.Out.WriteLine($"The export of poll '{manifest.PollId}' ({manifest.PollName}) verifies: signed, {N(manifest.Ballots)} ballots in canonical order, every count and the Merkle root recomputed.");
        for (var i = 0; i < manifest.Options.Count; i++)
        {
            Console.Out.WriteLine($"  {manifest.Options[i]}: {N(manifest.Tallies[i])}");
        }

        Console.Out.WriteLine($"  total: {N(manifest.Total)}");
        Console.Out.WriteLine($"  Merkle root: {manifest.MerkleRoot}");
        return 0;
    }
}
