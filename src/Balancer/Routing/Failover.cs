using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

namespace Voting.Balancer.Routing;

/// <summary>
/// The step of the proxy pipeline that keeps a voter from seeing a dead or unready front end: a request whose
/// connection was refused (or not made in time) never reached that front end, and one it answered 503 it did not take,
/// so either is sent to another front end; any other failure becomes a <c>503</c> with <c>Retry-After</c> and a sentence
/// saying whether the vote may have been recorded — never YARP's bare 502 or 504.
/// </summary>
public sealed partial class Failover(IOptions<BalancerOptions> options, IMeterFactory meters, ILogger<Failover> logger)
{
    public const string MeterName = "Voting.Balancer";
    private const int MaxAttempts = 3;
    private static readonly object RetryPossibleKey = new();
    private static readonly object RefusedByFrontEndKey = new();
    private static readonly object OwnHeadersKey = new();
    private readonly Counter<long> _retries = meters.Create(MeterName).CreateCounter<long>(
        "voting.balancer.retries", description: "Requests sent to another front end because the chosen one refused the connection or answered 503, by reason.");
    private readonly Counter<long> _unavailable = meters.Create(MeterName).CreateCounter<long>(
        "voting.balancer.unavailable", description: "Requests answered 503 by the balancer itself, by reason.");

    public async Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        // What the balancer's own middleware set before the proxy (HSTS) survives a retry's or an answer's clearing.
        if (context.Response.Headers.Count > 0)
        {
            context.Items[OwnHeadersKey] = context.Response.Headers.ToArray();
        }

        // A body larger than a vote could need is refused before any front end is asked (Kestrel would cut it off
        // while YARP read it, and YARP answer a bare 400).
        if (context.Request.ContentLength > options.Value.MaxRequestBodyBytes)
        {
            await AnswerTooLargeAsync(context);
            return;
        }

        // Small bodies (the front ends take 1 KiB) stay in memory so they can be sent again.
        context.Request.EnableBuffering(bufferThreshold: options.Value.MaxRequestBodyBytes);
        var proxy = context.GetReverseProxyFeature();
        // Load balancing narrows the available destinations to the one it picks: keep the whole list for a retry.
        var candidates = proxy.AvailableDestinations.ToList();
        for (var attempt = 1; ; attempt++)
        {
            // A front end's own 503 is held back (see HoldBackRefusal) only while another front end could be asked.
            if (attempt < MaxAttempts && candidates.Count > 1)
            {
                context.Items[RetryPossibleKey] = true;
            }
            else
            {
                context.Items.Remove(RetryPossibleKey);
            }

            await next();
            var refusedByFrontEnd = context.Items.Remove(RefusedByFrontEndKey);
            var error = context.GetForwarderErrorFeature();
            if ((error is null && !refusedByFrontEnd) || context.Response.HasStarted)
            {
                return;
            }

            var tried = proxy.ProxiedDestination;
            if (tried is not null)
            {
                candidates.Remove(tried);
            }

            if (error is not null && (!NeverReachedTheFrontEnd(error) || attempt == MaxAttempts || tried is null || candidates.Count == 0))
            {
                await AnswerUnavailableAsync(context, error);
                return;
            }

            var reason = refusedByFrontEnd ? "frontend-503" : "connection-refused";
            LogRetried(logger, tried?.DestinationId, reason, error?.Exception?.Message);
            _retries.Add(1, new KeyValuePair<string, object?>("reason", reason));
            proxy.AvailableDestinations = candidates.ToArray();
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Request.Body.Position = 0;
            ClearResponse(context);
        }
    }

    /// <summary>
    /// A response transform: a front end that answers 503 said it could not take the vote (its Redis is down or full,
    /// say) — it is not recorded, or at worst recorded without the voter being told, which a second copy of the same
    /// choice cannot make count twice (one row per voter, latest wins). While another front end can be asked, the 503
    /// is held back and <see cref="InvokeAsync"/> asks it; the voter sees the 503 only from the last one asked.
    /// </summary>
    public static ValueTask HoldBackRefusal(ResponseTransformContext transform)
    {
        if (transform.ProxyResponse?.StatusCode == HttpStatusCode.ServiceUnavailable && transform.HttpContext.Items.ContainsKey(RetryPossibleKey))
        {
            transform.SuppressResponseBody = true;
            transform.HttpContext.Items[RefusedByFrontEndKey] = true;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The connection was refused, its name did not resolve, or it was not made within <c>Balancer:ConnectTimeout</c>
    /// (SocketsHttpHandler reports that as a cancellation caused by a <see cref="TimeoutException"/>, which YARP calls
    /// <see cref="ForwarderError.RequestTimedOut"/>): no byte of the request reached the front end.
    /// </summary>
    public static bool NeverReachedTheFrontEnd(IForwarderErrorFeature error) => error switch
    {
        { Error: ForwarderError.Request, Exception: HttpRequestException request } =>
            request.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            || request.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable },
        { Error: ForwarderError.Request or ForwarderError.RequestTimedOut, Exception: OperationCanceledException { InnerException: TimeoutException } } => true,
        _ => false,
    };

    private async Task AnswerUnavailableAsync(HttpContext context, IForwarderErrorFeature error)
    {
        string reason, detail;
        switch (error.Error)
        {
            case ForwarderError.RequestBodyClient when IsTooLarge(error.Exception):
                // A chunked body that went past Balancer:MaxRequestBodyBytes while it was read.
                await AnswerTooLargeAsync(context);
                return;
            case ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient:
                // The voter went away or sent a broken body: YARP's own answer stands, nobody is waiting for ours.
                return;
            case ForwarderError.NoAvailableDestinations:
                reason = "no-frontend";
                detail = "No front end can take votes right now, so your vote was not recorded. Please try again in a moment.";
                break;
            case ForwarderError.Request or ForwarderError.RequestTimedOut when NeverReachedTheFrontEnd(error):
                reason = "frontends-refused";
                detail = "No front end answered, so your vote was not recorded. Please try again in a moment.";
                break;
            default:
                reason = "frontend-failed";
                detail = "The front end stopped answering while it handled your vote, which may or may not have been recorded. Please vote again: only your latest vote counts.";
                break;
        }

        _unavailable.Add(1, new KeyValuePair<string, object?>("reason", reason));
        ClearResponse(context);
        context.Response.Headers.RetryAfter = ((int)Math.Ceiling(options.Value.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await AnswerAsync(context, new ProblemBody("https://tools.ietf.org/html/rfc9110#section-15.6.4", "Service Unavailable", 503, detail, reason));
    }

    /// <summary>413: the body is larger than <c>Balancer:MaxRequestBodyBytes</c>; no front end saw it.</summary>
    private Task AnswerTooLargeAsync(HttpContext context)
    {
        ClearResponse(context);
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"The request body is larger than {options.Value.MaxRequestBodyBytes} bytes, far more than a vote needs, so it was not passed on and no vote was recorded.");
        return AnswerAsync(context, new ProblemBody("https://tools.ietf.org/html/rfc9110#section-15.5.14", "Content Too Large", 413, detail, "body-too-large"));
    }

    /// <summary>Clears what a front end's answer put in the response, keeping the headers the balancer set before the proxy.</summary>
    private static void ClearResponse(HttpContext context)
    {
        context.Response.Clear();
        if (context.Items.TryGetValue(OwnHeadersKey, out var own))
        {
            foreach (var (name, value) in (KeyValuePair<string, Microsoft.Extensions.Primitives.StringValues>[])own!)
            {
                context.Response.Headers[name] = value;
            }
        }
    }

    private static bool IsTooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The balancer's own answer: a problem for the API, a page for a browser.</summary>
    private static async Task AnswerAsync(HttpContext context, ProblemBody problem)
    {
        var response = context.Response;
        response.StatusCode = problem.Status;
        response.Headers.CacheControl = "no-store";
        if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            await response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json");
        }
        else
        {
            response.ContentType = "text/html; charset=utf-8";
            await response.WriteAsync(
                $"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Vote not taken</title><p>{problem.Detail}</p><p><a href=\"/\">Back to the vote</a></p></html>");
        }
    }

    private sealed record ProblemBody(string Type, string Title, int Status, string Detail, string Reason);

    [LoggerMessage(1, LogLevel.Information, "Front end {FrontendId} could not take the request ({Reason}: {Error}); it goes to another")]
    private static partial void LogRetried(ILogger logger, string? frontendId, string reason, string? error);
}
