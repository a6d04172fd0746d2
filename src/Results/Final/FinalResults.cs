using Voting.Results.Tallies;
using Voting.Sealing;
using Voting.Sealing.Export;
using Voting.ServiceDefaults.Voting;

namespace Voting.Results.Final;

/// <summary>
/// The sealed count as <c>GET /api/results/final</c> answers it: the manifest's facts with the options' labels and
/// shares, and where the files are. The manifest (signed) is the authority; this is its reading for people.
/// </summary>
public sealed record FinalResults(
    string PollId,
    string PollName,
    DateTimeOffset? OpenedAt,
    DateTimeOffset ClosedAt,
    DateTimeOffset SealedAt,
    IReadOnlyList<OptionResult> Options,
    long Total,
    IReadOnlyDictionary<string, long> Frontends,
    long Ballots,
    string MerkleRoot,
    string BallotsSha256,
    FinalLinks Links)
{
    public static FinalResults Of(Seal seal, BallotOptions ballot)
    {
        var manifest = seal.Manifest;
        var options = manifest.Options.Select((key, i) => new OptionResult(
            key, ballot.LabelOf(key), manifest.Tallies[i], manifest.Total == 0 ? 0 : Math.Round(100.0 * manifest.Tallies[i] / manifest.Total, 1)));
        return new FinalResults(
            manifest.PollId, manifest.PollName, manifest.OpenedAt, manifest.ClosedAt, manifest.SealedAt, [.. options], manifest.Total,
            manifest.Frontends.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal), manifest.Ballots, manifest.MerkleRoot,
            manifest.BallotsSha256, FinalLinks.Instance);
    }
}

/// <summary>The published seal's files, the chart, and the page where a voter checks a receipt.</summary>
public sealed record FinalLinks(string Manifest, string Ballots, string PublicKey, string Chart, string Receipt)
{
    public const string Base = "/api/results/final";

    public const string ChartFile = "chart.svg";

    public static FinalLinks Instance { get; } = new(
        $"{Base}/{SealExport.ManifestFile}", $"{Base}/{BallotsCsv.FileName}", $"{Base}/{SealExport.PublicKeyFile}", $"{Base}/{ChartFile}", "/receipt");
}
