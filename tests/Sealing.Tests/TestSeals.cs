using Voting.Sealing.Ballots;
using Voting.Sealing.Manifest;
using Voting.Testing;

namespace Voting.Sealing.Tests;

/// <summary>Polls, keys, ballots and exports for the tests.</summary>
internal static class TestSeals
{
    public static readonly PollFacts Poll = new(
        "superbowl-2026", "Cats or dogs?", new DateTimeOffset(2026, 2, 8, 23, 0, 0, TimeSpan.Zero),
        new DateTimeOffset(2026, 2, 9, 1, 0, 0, TimeSpan.Zero), ["cats", "dogs"]);

    public static readonly PseudonymKey PseudonymKey = new([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);

    public static readonly DateTimeOffset SealedAt = new(2026, 2, 9, 1, 5, 0, 123, TimeSpan.Zero);

    /// <summary>A new signing key's PEM file, as <c>Poll:SigningKeyPath</c> names one.</summary>
    public static string NewSigningKeyFile()
    {
        var path = Path.Combine(TestDirectories.Create("seal-key"), "signing.key");
        File.WriteAllText(path, SealSigningKey.CreatePem());
        return path;
    }

    public static SealSigningKey NewSigningKey() => SealSigningKey.FromPemFile(NewSigningKeyFile(), "Poll:SigningKeyPath");

    /// <summary><paramref name="count"/> voters' ballots over two front ends, cats for one voter in three.</summary>
    public static BallotSet Ballots(int count)
    {
        var random = new Random(count);
        var builder = new BallotSet.Builder(Poll.Options);
        for (var i = 0; i < count; i++)
        {
            builder.Add(PseudonymKey.Of(VoterId(i)), i % 3 == 0 ? "cats" : "dogs", Guid.CreateVersion7(), random.Next(2) == 0 ? "frontend01" : "frontend02");
        }

        return builder.Build();
    }

    public static Guid VoterId(int i) => new($"00000000-0000-4000-8000-{i:x12}");

    /// <summary>A sealed export of <paramref name="count"/> ballots in a new directory.</summary>
    public static async Task<string> ExportAsync(int count = 40)
    {
        using var key = NewSigningKey();
        var seal = await Seal.CreateAsync(Poll, Ballots(count), key, SealedAt, CancellationToken.None);
        var directory = TestDirectories.Create("export");
        await seal.WriteExportAsync(directory, CancellationToken.None);
        return directory;
    }
}
