using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Voting.ServiceDefaults.Voting;
using Voting.Web.Abuse;
using Voting.Web.Frontend;
using Voting.Web.Overload;
using Voting.Web.Poll;
using Voting.Web.Receipts;

namespace Voting.Web.Voting;

/// <summary>The vote page (<c>GET /</c>, <c>POST /</c>) and the JSON API (<c>POST /api/votes</c>, <c>GET /api/options</c>).</summary>
public static partial class VotingEndpoints
{
    private const string HtmlContentType = "text/html; charset=utf-8";

    // While Redis is down every vote fails; one log line per second says so without flooding the log.
    private static long _lastRedisFailureLogged;

    public static IEndpointRouteBuilder MapVotingEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // The page and the votes share the front end's concurrency limit (OverloadProtection): beyond it and its
        // queue, they are answered 503 at once. Before it, the per-client limits (ClientLimiter) answer 429: new
        // identities per address on the page, votes per voter and per address on the votes. Health, metrics and the
        // options are never limited.
        endpoints.MapGet("/", ShowPage).RequireVotingAdmission().RequireClientLimits(ClientLimitKind.Page);
        // With the identity challenge on, a new voter's page is the challenge, and its answer mints the identity.
        endpoints.MapPost("/identity", SolveChallengeAsync).DisableAntiforgery().RequireVotingAdmission().RequireClientLimits(ClientLimitKind.Page);
        endpoints.MapPost("/", VoteFromFormAsync).DisableAntiforgery().RequireVotingAdmission().RequireClientLimits(ClientLimitKind.Vote);

        var api = endpoints.MapGroup("/api");
        api.MapPost("/votes", VoteFromJsonAsync).RequireVotingAdmission().RequireClientLimits(ClientLimitKind.Vote);
        api.MapGet("/options", (BallotOptions ballot) => TypedResults.Ok(ballot.All));
        return endpoints;
    }

    /// <summary>
    /// The vote page: the one place a voter identity is issued (rate-limited per address by <see cref="ClientLimiter"/>).
    /// Before the poll opens and after it closes, it says so, without the ballot.
    /// </summary>
    private static ContentHttpResult ShowPage(
        HttpContext context, VoterCookies cookies, VotePage page, ProofOfWork proofOfWork, PollScheduleCopy poll, TimeProvider timeProvider)
    {
        if (OutsideWindow(poll, timeProvider) is { } outside)
        {
            return Html(page.RenderOutsideWindow(outside.Sentence));
        }

        if (cookies.Read(context.Request, out VoterCookie voter) != VoterCookieState.Valid)
        {
            if (proofOfWork.Enabled)
            {
                context.Response.Headers.ContentSecurityPolicy = VotePage.ChallengePolicy;
                return Html(page.RenderChallenge(proofOfWork.Issue(), proofOfWork.Difficulty));
            }

            cookies.Issue(context.Response);
        }
        else
        {
            // A returning voter whose cookie an older key signed keeps their id, under the current key.
            cookies.RenewIfStale(context.Response, voter);
        }

        return Html(page.Render(null, VotePageNotice.None));
    }

    /// <summary>
    /// <c>POST /identity</c> with <c>challenge</c> and <c>solution</c>: a solved challenge gets a new identity and 303 back
    /// to the ballot; anything else 400 and the reason, and no identity.
    /// </summary>
    private static async Task<IResult> SolveChallengeAsync(HttpContext context, VoterCookies cookies, VotePage page, ProofOfWork proofOfWork)
    {
        var request = context.Request;
        if (!proofOfWork.Enabled)
        {
            return Html(page.Render(null, VotePageNotice.Rejected, "No browser check is needed here: load the vote page."), StatusCodes.Status404NotFound);
        }

        if (!request.HasFormContentType)
        {
            return Html(page.Render(null, VotePageNotice.Rejected, "The answer is sent as a form (application/x-www-form-urlencoded)."),
                StatusCodes.Status415UnsupportedMediaType);
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is BadHttpRequestException or InvalidDataException or IOException)
        {
            return Html(page.Render(null, VotePageNotice.Rejected, "The form cannot be read."),
                e is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status400BadRequest);
        }

        if (cookies.Read(request, out VoterCookie _) != VoterCookieState.Valid)
        {
            var verdict = proofOfWork.Verify(form["challenge"].ToString(), form["solution"].ToString());
            if (verdict != ChallengeVerdict.Solved)
            {
                return Html(page.Render(null, VotePageNotice.Rejected, ChallengeProblem(verdict)), StatusCodes.Status400BadRequest);
            }

            cookies.Issue(context.Response);
        }

        context.Response.Headers.Location = "/";
        return TypedResults.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static string ChallengeProblem(ChallengeVerdict verdict) => verdict switch
    {
        ChallengeVerdict.Expired => "The browser check took too long or is too old: load the vote page (GET /) again.",
        ChallengeVerdict.AlreadyUsed => "That browser check has been used already: load the vote page (GET /) again.",
        ChallengeVerdict.Unsolved => "That answer does not solve the browser check: load the vote page (GET /) again.",
        _ => "That is not a browser check this site gave: load the vote page (GET /) again.",
    };

    /// <summary>The seed's form post: <c>vote=a</c> with the voter cookie; answers with the page, the choice marked.</summary>
    private static async Task<ContentHttpResult> VoteFromFormAsync(
        HttpContext context, VoterCookies cookies, VotePage page, BallotOptions ballot, VoteRecorder recorder, VoteReceipts receipts,
        PollScheduleCopy poll, TimeProvider timeProvider, IOptions<FrontendOptions> frontend, ILoggerFactory loggers)
    {
        if (OutsideWindow(poll, timeProvider) is { } outside)
        {
            return Html(page.RenderOutsideWindow("Your vote was not recorded. " + outside.Sentence), StatusCodes.Status403Forbidden);
        }

        var request = context.Request;
        if (!request.HasFormContentType)
        {
            return Html(page.Render(null, VotePageNotice.Rejected, "Votes are sent as a form (application/x-www-form-urlencoded)."),
                StatusCodes.Status415UnsupportedMediaType);
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(context.RequestAborted);
        }
        catch (BadHttpRequestException e)
        {
            return Html(page.Render(null, VotePageNotice.Rejected, BodyProblem(e)), e.StatusCode);
        }
        catch (InvalidDataException)
        {
            return Html(page.Render(null, VotePageNotice.Rejected, "The form cannot be read: it is not a well-formed form body."), StatusCodes.Status400BadRequest);
        }
        catch (IOException)
        {
            // A multipart body that ends before its closing boundary ("Unexpected end of Stream").
            return Html(page.Render(null, VotePageNotice.Rejected, "The form ended before it was complete (a multipart body needs its closing boundary)."),
                StatusCodes.Status400BadRequest);
        }

        var votes = form["vote"];
        if (votes.Count != 1 || !ballot.TryGet(votes[0], out var option))
        {
            var problem = votes.Count == 0 ? "The form has no 'vote' field." : $"'{votes}' is not an option on this ballot.";
            return Html(page.Render(null, VotePageNotice.Rejected, problem), StatusCodes.Status400BadRequest);
        }

        if (!TryGetVoter(context, cookies, out var voter, out var cookieProblem))
        {
            return Html(page.Render(null, VotePageNotice.Rejected, cookieProblem), StatusCodes.Status400BadRequest);
        }

        try
        {
            var vote = await recorder.RecordAsync(voter, option.Key, context.Connection.RemoteIpAddress, context.Request.Headers.UserAgent);
            cookies.Remember(context.Response, voter, vote.VoteId);
            VoteMetrics.RecordAccepted(form: true);
            return Html(page.Render(vote.Option, VotePageNotice.Recorded, receipt: receipts.For(vote.VoterId, vote.VoteId)));
        }
        catch (VoteOutsideWindowException e)
        {
            OnOutsideWindow(context, e, frontend.Value);
            return Html(e.Answer.Verdict is VoteWindowVerdict.Unsure
                ? page.Render(null, VotePageNotice.NotRecorded, e.Answer.Sentence)
                : page.RenderOutsideWindow("Your vote was not recorded. " + e.Answer.Sentence), e.StatusCode);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            OnRedisFailure(context, e, frontend.Value, loggers);
            return Html(page.Render(null, VotePageNotice.NotRecorded, "this front end cannot store votes right now. Please try again in a moment."),
                StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary><c>POST /api/votes</c> with <c>{"option":"a"}</c> and the voter cookie: 202 with the vote and its receipt.</summary>
    private static async Task<Results<Accepted<AcceptedVote>, ProblemHttpResult>> VoteFromJsonAsync(
        HttpContext context, VoterCookies cookies, BallotOptions ballot, VoteRecorder recorder, VoteReceipts receipts,
        PollScheduleCopy poll, TimeProvider timeProvider, IOptions<FrontendOptions> frontend, ILoggerFactory loggers)
    {
        if (OutsideWindow(poll, timeProvider) is { } outside)
        {
            return Problem(StatusCodes.Status403Forbidden, "The vote was not recorded. " + outside.Sentence);
        }

        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Votes are sent as JSON (Content-Type: application/json).");
        }

        VoteRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(request.Body, VotingJsonContext.Default.VoteRequest, context.RequestAborted);
        }
        catch (BadHttpRequestException e)
        {
            return Problem(e.StatusCode, BodyProblem(e));
        }
        catch (JsonException e)
        {
            // Where the body went wrong, in our words: an exception's own text is never shown to the public.
            return Problem(StatusCodes.Status400BadRequest, string.Create(CultureInfo.InvariantCulture,
                $"The body is not valid JSON for a vote (at {e.Path ?? "$"}, line {e.LineNumber ?? 0}, byte {e.BytePositionInLine ?? 0})."));
        }
        catch (IOException)
        {
            // The body ended early or the connection broke while it was read.
            return Problem(StatusCodes.Status400BadRequest, "The body ended before it was complete.");
        }

        if (body?.Option is not { } key)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body must be {\"option\":\"<key>\"}.");
        }

        if (!ballot.TryGet(key, out var option))
        {
            return Problem(StatusCodes.Status400BadRequest,
                $"'{key}' is not an option on this ballot; options are {string.Join(", ", ballot.All.Select(o => o.Key))}.");
        }

        if (!TryGetVoter(context, cookies, out var voter, out var cookieProblem))
        {
            return Problem(StatusCodes.Status400BadRequest, cookieProblem);
        }

        try
        {
            var vote = await recorder.RecordAsync(voter, option.Key, context.Connection.RemoteIpAddress, context.Request.Headers.UserAgent);
            cookies.Remember(context.Response, voter, vote.VoteId);
            VoteMetrics.RecordAccepted(form: false);
            return TypedResults.Accepted((string?)null, new AcceptedVote(
                vote.VoteId, vote.VoterId, vote.Option, vote.FrontendId, vote.Timestamp, receipts.For(vote.VoterId, vote.VoteId)));
        }
        catch (VoteOutsideWindowException e)
        {
            OnOutsideWindow(context, e, frontend.Value);
            return Problem(e.StatusCode, "The vote was not recorded. " + e.Answer.Sentence);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            OnRedisFailure(context, e, frontend.Value, loggers);
            return Problem(StatusCodes.Status503ServiceUnavailable, "The vote was not recorded: this front end cannot store votes right now. Retry later.");
        }
    }

    /// <summary>
    /// A vote needs a voter: the signed cookie the vote page issues (naming the voter's latest vote, once there is one:
    /// the new vote is ordered after it). Without one (or with a forged one) the vote is refused and no cookie is
    /// issued: identities come only from the vote page, whose issuing is rate-limited per address. A refused vote
    /// that minted one would let a script get identities past that limit.
    /// </summary>
    private static bool TryGetVoter(HttpContext context, VoterCookies cookies, out VoterCookie voter, out string problem)
    {
        switch (cookies.Read(context.Request, out voter))
        {
            case VoterCookieState.Valid:
                problem = "";
                return true;
            case VoterCookieState.Missing:
                problem = "The vote has no voter cookie: load the vote page (GET /) first, then vote again.";
                return false;
            default:
                problem = "The voter cookie is not valid: load the vote page (GET /) again for a new one, then vote again.";
                return false;
        }
    }

    private static string BodyProblem(BadHttpRequestException e) => e.StatusCode == StatusCodes.Status413PayloadTooLarge
        ? "The request body is too large for a vote."
        : "The request body cannot be read: it ended early or is malformed.";

    /// <summary>
    /// The answer when the poll is not open now by this front end's copy of the schedule, else null. Checked first, so
    /// that any vote outside the window hears why; a vote that passes is checked again with its own timestamp.
    /// </summary>
    private static VoteWindowAnswer? OutsideWindow(PollScheduleCopy poll, TimeProvider timeProvider) =>
        poll.Decide(timeProvider.GetUtcNow()) is { Verdict: VoteWindowVerdict.NotYetOpen or VoteWindowVerdict.Closed } outside ? outside : null;

    /// <summary>A 503 (this front end unsure of the schedule) says when to retry: another front end may know.</summary>
    private static void OnOutsideWindow(HttpContext context, VoteOutsideWindowException exception, FrontendOptions frontend)
    {
        if (exception.Answer.Verdict is VoteWindowVerdict.Unsure)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(frontend.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }
    }

    private static void OnRedisFailure(HttpContext context, Exception exception, FrontendOptions frontend, ILoggerFactory loggers)
    {
        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(frontend.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastRedisFailureLogged);
        if (now - last >= 1000 && Interlocked.CompareExchange(ref _lastRedisFailureLogged, now, last) == last)
        {
            LogRedisFailed(loggers.CreateLogger(typeof(VotingEndpoints)), exception, frontend.Id);
        }
    }

    private static ContentHttpResult Html(string html, int statusCode = StatusCodes.Status200OK)
    {
        if (statusCode >= 400)
        {
            VoteMetrics.RecordRefused(statusCode);
        }

        return TypedResults.Content(html, HtmlContentType, statusCode: statusCode);
    }

    private static ProblemHttpResult Problem(int statusCode, string detail)
    {
        VoteMetrics.RecordRefused(statusCode);
        return TypedResults.Problem(detail: detail, statusCode: statusCode);
    }

    [LoggerMessage(1, LogLevel.Warning, "Front end {FrontendId}: votes cannot be stored in Redis; voters are told to retry (logged at most once a second)")]
    private static partial void LogRedisFailed(ILogger logger, Exception exception, string frontendId);
}

public sealed record VoteRequest(string? Option);

/// <summary>What a voter gets back for a vote that Redis has taken: the vote, and its receipt to keep.</summary>
public sealed record AcceptedVote(Guid VoteId, Guid VoterId, string Option, string FrontendId, DateTime AcceptedAt, Receipt Receipt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(VoteRequest))]
[JsonSerializable(typeof(AcceptedVote))]
[JsonSerializable(typeof(IReadOnlyList<BallotOption>))]
internal sealed partial class VotingJsonContext : JsonSerializerContext;
