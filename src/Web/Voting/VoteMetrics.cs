using System.Diagnostics.Metrics;

namespace Voting.Web.Voting;

/// <summary>The front end's own instruments (meter <c>Voting.Web</c>): votes taken and votes refused, by reason.</summary>
internal static class VoteMetrics
{
    private static readonly Meter Meter = new("Voting.Web");

    private static readonly Counter<long> Accepted = Meter.CreateCounter<long>(
        "voting.votes.accepted", unit: "{vote}", description: "Votes Redis has taken, by channel (form or json).");

    private static readonly Counter<long> Refused = Meter.CreateCounter<long>(
        "voting.votes.refused", unit: "{vote}", description: "Votes not taken, by HTTP status code.");

    private static readonly KeyValuePair<string, object?> Form = new("channel", "form");
    private static readonly KeyValuePair<string, object?> Json = new("channel", "json");

    public static void RecordAccepted(bool form) => Accepted.Add(1, form ? Form : Json);

    public static void RecordRefused(int statusCode) => Refused.Add(1, new KeyValuePair<string, object?>("status", statusCode));
}
