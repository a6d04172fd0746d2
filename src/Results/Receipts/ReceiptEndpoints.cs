using System.Text;
using Voting.Results.Final;
using Voting.Results.Limits;
using Voting.Results.Poll;
using Voting.Sealing.Ballots;
using Voting.Sealing.Receipts;

namespace Voting.Results.Receipts;

/// <summary>
/// A voter's receipt checked against the published seal: <c>GET /api/receipts/{voteId}?code=XXXX-XXXX-XXXX</c> (the
/// proof lookup, public, no authentication) and <c>GET /receipt</c>, the page where a voter types the receipt and
/// their browser checks the proof itself. Only once the poll is sealed and the results released (409 before, as for
/// the final count).
/// </summary>
public static class ReceiptEndpoints
{
    private const string PageFile = "receipt.html";

    /// <summary>The page's script and stylesheet are files of this origin; it fetches only from this origin.</summary>
    private const string PageSecurityPolicy = "default-src 'self'; frame-ancestors 'none'";

    public static IEndpointRouteBuilder MapReceipts(this IEndpointRouteBuilder endpoints)
    {
        // Read the page now: an application without it fails at start-up, not on the first visit.
        var page = ReadPage(endpoints.ServiceProvider.GetRequiredService<IWebHostEnvironment>());
        endpoints.MapGet("/receipt", (HttpContext context) =>
        {
            context.Response.Headers.ContentSecurityPolicy = PageSecurityPolicy;
            context.Response.Headers.CacheControl = "no-cache";
            return TypedResults.Bytes(page, "text/html; charset=utf-8");
        });
        // Each lookup computes a proof: limited per client address on its own (Results:Limits:Receipts).
        endpoints.MapGet("/api/receipts/{voteId}", LookUp).RequireRateLimiting(ResultsLimitsExtensions.ReceiptsPolicy);
        return endpoints;
    }

    private static IResult LookUp(string voteId, string? code, HttpContext context, SealFeed seals, PollFeed poll)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!Guid.TryParseExact(voteId, "D", out var vote))
        {
            return TypedResults.BadRequest(new ReceiptError(
                "The vote id is not a vote id: it is the uuid printed on the receipt, such as 0193a7f2-1c2e-7abc-8def-0123456789ab."));
        }

        if (string.IsNullOrWhiteSpace(code))
        {
            return TypedResults.BadRequest(new ReceiptError("The receipt's code is missing: add ?code= and the code printed on the receipt (XXXX-XXXX-XXXX)."));
        }

        if (!ReceiptCode.TryParse(code, out var receipt))
        {
            return TypedResults.BadRequest(new ReceiptError(
                $"The code is not a receipt code: {ReceiptCode.Length} characters of 0-9 and A-Z without I, L, O and U, printed XXXX-XXXX-XXXX."));
        }

        if (!FinalEndpoints.TryGet(seals, poll, context, out var published, out var refusal))
        {
            return refusal;
        }

        var found = published.Receipts.Find(vote, receipt.Value);
        var id = vote.ToString("D");
        return found switch
        {
            { Status: ReceiptStatus.Included, Ballot: { } ballot, Proof: { } proof } =>
                TypedResults.Ok(new ReceiptProven("included", id, Proof(ballot, proof, published))),
            { Status: ReceiptStatus.Superseded, Ballot: { } ballot, Proof: { } proof } =>
                TypedResults.Ok(new ReceiptProven("superseded", id, Proof(ballot, proof, published))),
            { Status: ReceiptStatus.NotCounted } => TypedResults.NotFound(new ReceiptNotCounted("not-counted",
                "The voter's counted ballot is an earlier vote than this receipt's: this receipt's vote is not in the sealed count. " +
                "Please report this receipt (its vote id and code) to the poll's organisers.")),
            { Status: ReceiptStatus.Ambiguous } => TypedResults.NotFound(new ReceiptNotCounted("not-found",
                "More than one sealed ballot begins with this code and none has this vote id, so this receipt cannot tell which ballot is yours.")),
            _ => TypedResults.NotFound(new ReceiptNotCounted("not-found",
                "No sealed ballot matches this vote id and code: check both against the receipt (a vote id with another receipt's code matches nothing).")),
        };
    }

    private static BallotProof Proof(Ballot ballot, Sealing.Merkle.InclusionProof proof, PublishedSeal published) => new(
        new ProvenBallot(ballot.Pseudonym.ToString(), ballot.VoteId.ToString("D"), ballot.Option),
        Encoding.UTF8.GetString(BallotLine.Of(ballot)),
        proof.LeafIndex,
        proof.TreeSize,
        [.. proof.Path.Select(Convert.ToHexStringLower)],
        published.Seal.Manifest.MerkleRoot,
        FinalLinks.Instance.Manifest,
        FinalLinks.Instance.PublicKey);

    private static byte[] ReadPage(IWebHostEnvironment environment)
    {
        var file = environment.WebRootFileProvider.GetFileInfo(PageFile);
        if (!file.Exists)
        {
            throw new InvalidOperationException($"The receipt page wwwroot/{PageFile} is missing from the application's web root.");
        }

        using var stream = file.CreateReadStream();
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        return bytes.ToArray();
    }
}
