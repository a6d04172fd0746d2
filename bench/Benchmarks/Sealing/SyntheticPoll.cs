using Voting.Sealing;
using Voting.Sealing.Ballots;

namespace Voting.Benchmarks.Sealing;

/// <summary>A closed poll's rows as the votes table would give them: random voters, two options, ten front ends.</summary>
internal sealed class SyntheticPoll
{
    public static readonly PollFacts Facts = new(
        "bench", "Cats or dogs?", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(2), ["cats", "dogs"]);

    public static readonly PseudonymKey PseudonymKey = new([.. Enumerable.Range(1, 32).Select(i => (byte)i)]);

    private static readonly string[] Frontends = [.. Enumerable.Range(1, 10).Select(i => $"frontend{i:00}")];

    public SyntheticPoll(int count)
    {
        var random = new Random(count);
        Voters = new Guid[count];
        VoteIds = new Guid[count];
        Options = new byte[count];
        FrontendIndexes = new byte[count];
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < count; i++)
        {
            random.NextBytes(bytes);
            Voters[i] = new Guid(bytes);
            VoteIds[i] = Guid.CreateVersion7();
            Options[i] = (byte)(random.Next(100) < 45 ? 0 : 1);
            FrontendIndexes[i] = (byte)random.Next(Frontends.Length);
        }
    }

    public static string FrontendOf(byte index) => Frontends[index];

    public Guid[] Voters { get; }

    public Guid[] VoteIds { get; }

    public byte[] Options { get; }

    public byte[] FrontendIndexes { get; }

    /// <summary>The ballots, pseudonyms computed and sorted: what the sealer does with the rows it read.</summary>
    public BallotSet Ballots()
    {
        var builder = new BallotSet.Builder(Facts.Options).WithCapacity(Voters.Length);
        for (var i = 0; i < Voters.Length; i++)
        {
            builder.Add(PseudonymKey.Of(Voters[i]), Facts.Options[Options[i]], VoteIds[i], Frontends[FrontendIndexes[i]]);
        }

        return builder.Build();
    }
}
