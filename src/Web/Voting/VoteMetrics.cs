using System.Diagnostics.Metrics;

namespace Voting.Web.Voting;

/// <summary>
/// The front end's own instruments (meter <c>Voting.Web</c>): votes taken, votes refused (by status), and requests shed
/// at the front end's concurrency and queue limits (by endpoint: <c>page</c>, <c>form</c>, <c>json</c>).
/// </summary>
internal static class VoteMetrics
{
    private static readonly Meter Meter = new("Voting.Web");

    private static readonly Counter<long> Accepted = Meter.CreateCounter<long>(
        "voting.votes.accepted", unit: "{vote}", description: "Votes Redis has taken, by channel (form or json).");

    private static readonly Counter<long> Refused = Meter.CreateCounter<long>(
        "voting.votes.refused", unit: "{vote}", description: "Votes not taken, by HTTP status code.");

    private static readonly Counter<long> Shed = Meter.CreateCounter<long>(
        "voting.requests.shed", unit: "{request}", description: "Requests answered 503 because the front end was at its concurrency and queue limits, by endpoint (page, form or json).");

    private static readonly KeyValuePair<string, object?> FormChannel = new("channel", "form");
    private static readonly KeyValuePair<string, object?> JsonChannel = new("channel", "json");

    public static readonly KeyValuePair<string, object?> ShedPage = new("endpoint", "page");
    public static readonly KeyValuePair<string, object?> ShedForm = new("endpoint", "form");
    public static readonly KeyValuePair<string, object?> ShedJson = new("endpoint", "json");

    public static void RecordAccepted(bool form) => Accepted.Add(1, form ? FormChannel : JsonChannel);

    public static void RecordRefused(int statusCode) => Refused.Add(1, new KeyValuePair<string, object?>("status", statusCode));

    public static void RecordShed(KeyValuePair<string, object?> endpoint) => Shed.Add(1, endpoint);
}
