using System.Diagnostics.Metrics;

namespace Voting.Web.Abuse;

/// <summary>
/// Requests the client limits refused (meter <c>Voting.Web</c>, exported as <c>voting_requests_limited_total</c>), by
/// limit: <c>identity</c>, <c>address</c> or <c>voter</c>. Next to <c>voting_requests_shed_total</c> (503s of an
/// overloaded front end), this tells a stuffing wave from a crowd.
/// </summary>
internal static class LimitMetrics
{
    private static readonly Meter Meter = new("Voting.Web");

    private static readonly Counter<long> Limited = Meter.CreateCounter<long>(
        "voting.requests.limited", unit: "{request}", description: "Requests answered 429 by a per-client rate limit, by limit (identity, address or voter).");

    private static readonly KeyValuePair<string, object?> Identity = new("limit", ClientLimiter.IdentityLimit);
    private static readonly KeyValuePair<string, object?> Address = new("limit", ClientLimiter.AddressLimit);
    private static readonly KeyValuePair<string, object?> Voter = new("limit", ClientLimiter.VoterLimit);

    public static void RecordLimited(string limit) => Limited.Add(1, limit switch
    {
        ClientLimiter.IdentityLimit => Identity,
        ClientLimiter.VoterLimit => Voter,
        _ => Address,
    });
}
