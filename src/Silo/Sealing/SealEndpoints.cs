using System.Globalization;
using Voting.Sealing.Export;
using Voting.ServiceDefaults.Management;

namespace Voting.Silo.Sealing;

public static class SealEndpoints
{
    /// <summary>
    /// <c>POST /api/poll/seal</c>: seals the closed poll once every front end's stream is drained, and answers the signed
    /// manifest (the same one every time after the first). 409 with the reason when it cannot be sealed at all (the
    /// poll is not closed, sealing is not configured); 503 with <c>Retry-After</c> while it cannot be sealed yet (the
    /// close's grace, votes not yet committed, a Redis that cannot be read). <c>GET /api/poll/seal</c>,
    /// <c>/ballots.csv</c>, <c>/public-key.pem</c>: the export (docs/SEALING.md), 404 until sealed. Management
    /// surfaces: on the management port, with the token.
    /// </summary>
    public static IEndpointRouteBuilder MapSealEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var seal = endpoints.MapGroup("/api/poll/seal").RequireManagement();
        seal.MapPost("", SealAsync);
        seal.MapGet("", (PollSealing sealing, HttpContext context) =>
            ExportAsync(sealing, context, "application/json", (s, body, token) => body.WriteAsync(s.ManifestBytes, token).AsTask()));
        seal.MapGet("/" + BallotsCsv.FileName, (PollSealing sealing, HttpContext context) =>
            ExportAsync(sealing, context, "text/csv; charset=utf-8", (s, body, token) => BallotsCsv.WriteAsync(s.Ballots, body, token)));
        seal.MapGet("/" + SealExport.PublicKeyFile, (PollSealing sealing, HttpContext context) =>
            ExportAsync(sealing, context, "application/x-pem-file", (s, body, token) => context.Response.WriteAsync(s.PublicKeyPem, token)));
        return endpoints;
    }

    private static async Task<IResult> SealAsync(PollSealing sealing, HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        var attempt = await sealing.SealAsync(context.RequestAborted);
        if (attempt.Seal is { } sealedCount)
        {
            return Results.Bytes(sealedCount.ManifestBytes, "application/json");
        }

        if (attempt.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(detail: attempt.Detail, statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Problem(detail: attempt.Detail, statusCode: StatusCodes.Status409Conflict);
    }

    private static async Task<IResult> ExportAsync(
        PollSealing sealing, HttpContext context, string contentType, Func<Voting.Sealing.Seal, Stream, CancellationToken, Task> write)
    {
        if (await sealing.FindAsync(context.RequestAborted) is not { } sealedCount)
        {
            return TypedResults.Problem(detail: "The poll is not sealed (POST /api/poll/seal, ./voting poll seal).", statusCode: StatusCodes.Status404NotFound);
        }

        context.Response.ContentType = contentType;
        await write(sealedCount, context.Response.Body, context.RequestAborted);
        return Results.Empty;
    }
}
