using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Voting.LoadGen.Measuring;
using Voting.Sealing.Receipts;

namespace Voting.LoadGen.Voters;

/// <summary>What became of one vote, as far as its answer tells.</summary>
internal enum VoteResult
{
    /// <summary>2xx with a receipt, or the page showing the choice: the vote is promised.</summary>
    Acknowledged,

    /// <summary>4xx: the front end turned the vote down before storing it.</summary>
    Refused,

    /// <summary>No usable answer, or a 5xx: the vote may or may not have been stored.</summary>
    Unconfirmed,

    /// <summary>Nothing reached the front end (connection refused, or the load stopped before it was sent).</summary>
    NotSent,
}

/// <summary>
/// One vote's answer; <see cref="VoteId"/> and <see cref="AcceptedAt"/> come from a JSON answer (a form vote's page
/// shows the vote id, not the time), <see cref="Code"/> from the receipt of either (null where the front end gives no
/// code), <see cref="Cookie"/> is the voter cookie the answer set, as a <c>Cookie</c> header (naming this vote, so
/// that the voter's next vote is ordered after it).
/// </summary>
internal readonly record struct VoteAnswer(
    VoteResult Result, Guid VoteId = default, DateTime AcceptedAt = default, string? Cookie = null, ReceiptCode? Code = null);

/// <summary>
/// The HTTP side of the simulated browsers: one shared client without a cookie container (each voter sends its own
/// <c>Cookie</c> header), the page, the JSON API and the form, with every answer counted and timed.
/// </summary>
internal sealed class VoteClient(HttpClient http, VoteRequests requests, IReadOnlyList<Uri> frontends, LoadCounters counters, LoadLatencies latencies)
{
    /// <summary>The voter cookie's names: over HTTPS (<c>__Host-</c>, Secure) and over plain HTTP.</summary>
    private static readonly string[] CookiePrefixes = ["__Host-voter_id=", "voter_id="];

    /// <summary>Where the page after a vote shows its receipt: the vote id (36 characters), the code (14).</summary>
    private static readonly byte[] PageVoteIdMarker = "id=\"receipt-vote-id\">"u8.ToArray();

    private static readonly byte[] PageCodeMarker = "id=\"receipt-code\">"u8.ToArray();

    private const int AnswerBufferBytes = 16 * 1024;
    private readonly Uri[] _pages = [.. frontends.Select(LoadOptions.Directory)];
    private readonly Uri[] _votes = [.. frontends.Select(f => new Uri(LoadOptions.Directory(f), "api/votes"))];

    public int Frontends => _pages.Length;

    /// <summary>
    /// Creates the client every voter shares: no cookies, no proxy, no redirects; over HTTPS, the system's trusted
    /// certificates, or only <see cref="LoadOptions.TrustedCertificates"/> when given (a self-signed edge certificate).
    /// </summary>
    public static HttpClient CreateHttpClient(LoadOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.RequestTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        return new HttpClient(handler.Trusting(options.TrustedCertificates)) { Timeout = options.RequestTimeout };
    }

    /// <summary>The voter id at the start of a voter cookie's value (<c>Cookie</c> header <c>name=value</c>), or null.</summary>
    public static Guid? VoterIdOf(string cookieHeader)
    {
        var value = cookieHeader.AsSpan(cookieHeader.IndexOf('=', StringComparison.Ordinal) + 1);
        return value.Length >= 32 && Guid.TryParseExact(value[..32], "N", out var voterId) ? voterId : null;
    }

    /// <summary>
    /// <c>GET /</c>: the vote page, which issues the voter cookie. Returns it as a <c>Cookie</c> header, or null.
    /// <paramref name="forwardedFor"/>: the client address presented as a proxy hop would (null: the tool's own).
    /// </summary>
    public async Task<string?> OpenPageAsync(int frontend, string? forwardedFor, CancellationToken abort)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _pages[frontend]);
        Forward(request, forwardedFor);
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, abort);
            latencies.Pages.RecordSince(start);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                counters.OnPageLimited(response.Headers.RetryAfter is not null);
                return null;
            }

            var cookie = response.IsSuccessStatusCode ? VoterCookie(response) : null;
            counters.OnPage(cookie is not null);
            return cookie;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or SocketException or IOException && !abort.IsCancellationRequested)
        {
            // SocketException and IOException too: a connection reset as it opens can surface unwrapped
            // ("Transport endpoint is not connected", seen when a front end was killed).
            counters.OnPage(false);
            return null;
        }
    }

    /// <summary>Sends one vote, through the JSON API or the form, and tells what its answer promises.</summary>
    public async Task<VoteAnswer> VoteAsync(int frontend, string? forwardedFor, string cookieHeader, Guid voterId, int option, bool form, CancellationToken abort)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, form ? _pages[frontend] : _votes[frontend]);
        request.Headers.TryAddWithoutValidation("Cookie", cookieHeader);
        Forward(request, forwardedFor);
        request.Content = new ByteArrayContent(form ? requests.FormBodies[option] : requests.JsonBodies[option]);
        request.Content.Headers.TryAddWithoutValidation("Content-Type", form ? "application/x-www-form-urlencoded" : "application/json");

        counters.OnSent();
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, abort);
            var status = (int)response.StatusCode;
            if (status >= 400)
            {
                latencies.Record(start);
                counters.OnRefused(status);
                if (status == 503 && response.Headers.RetryAfter is null)
                {
                    counters.OnUnavailableWithoutRetryAfter();
                }

                if (status == 429 && response.Headers.RetryAfter is null)
                {
                    counters.OnLimitedWithoutRetryAfter();
                }

                // A 5xx may come after Redis took the vote (a timeout waiting for its answer): not promised, not excluded.
                return new VoteAnswer(status >= 500 ? VoteResult.Unconfirmed : VoteResult.Refused);
            }

            if (status is < 200 or >= 300)
            {
                counters.OnError(RequestError.UnexpectedStatus);
                return new VoteAnswer(VoteResult.Unconfirmed);
            }

            var microseconds = latencies.Record(start);
            // The answer is already buffered by HttpClient: copy it into a pooled buffer rather than a new array.
            var buffer = ArrayPool<byte>.Shared.Rent(AnswerBufferBytes);
            try
            {
                var length = await ReadAnswerAsync(response.Content, buffer, abort);
                var answer = form ? ConfirmPage(buffer.AsSpan(0, length), option) : ConfirmReceipt(buffer.AsSpan(0, length), voterId, option);
                if (answer.Result == VoteResult.Acknowledged)
                {
                    counters.OnAcknowledged();
                    latencies.Acknowledged.Record(microseconds);
                }
                else
                {
                    counters.OnError(RequestError.Unconfirmed);
                }

                // As a browser does, the voter keeps the cookie the answer set.
                return answer with { Cookie = VoterCookie(response) };
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        catch (TaskCanceledException) when (!abort.IsCancellationRequested)
        {
            counters.OnError(RequestError.Timeout);
            return new VoteAnswer(VoteResult.Unconfirmed);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            counters.OnError(RequestError.ConnectionRefused);
            return new VoteAnswer(VoteResult.NotSent);
        }
        catch (Exception e) when (e is HttpRequestException or SocketException or IOException)
        {
            counters.OnError(RequestError.ConnectionFailed);
            return new VoteAnswer(VoteResult.Unconfirmed);
        }
    }

    private static void Forward(HttpRequestMessage request, string? forwardedFor)
    {
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }
    }

    /// <summary>
    /// The voter cookie from an answer's <c>Set-Cookie</c> headers, as the <c>Cookie</c> header a browser sends back
    /// (<c>name=value</c>); a header that removes a cookie (an empty value) is passed over.
    /// </summary>
    private static string? VoterCookie(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var cookies))
        {
            return null;
        }

        foreach (var cookie in cookies)
        {
            foreach (var prefix in CookiePrefixes)
            {
                if (cookie.StartsWith(prefix, StringComparison.Ordinal))
                {
                    var end = cookie.IndexOf(';', StringComparison.Ordinal);
                    var header = cookie[..(end < 0 ? cookie.Length : end)];
                    if (header.Length > prefix.Length + 32)
                    {
                        return header;
                    }
                }
            }
        }

        return null;
    }

    /// <summary>The first <see cref="AnswerBufferBytes"/> of an answer (the vote page's buttons come well before that).</summary>
    private static async Task<int> ReadAnswerAsync(HttpContent content, byte[] buffer, CancellationToken abort)
    {
        await using var stream = await content.ReadAsStreamAsync(abort);
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), abort)) > 0)
        {
            length += read;
        }

        return length;
    }

    /// <summary>The vote page confirms a vote by marking its option's button as chosen, and shows its receipt.</summary>
    private VoteAnswer ConfirmPage(ReadOnlySpan<byte> page, int option)
    {
        if (page.IndexOf(requests.ChosenMarkers[option]) < 0)
        {
            return new VoteAnswer(VoteResult.Unconfirmed);
        }

        var voteId = After(page, PageVoteIdMarker, 36) is { } id && Guid.TryParseExact(Encoding.ASCII.GetString(id), "D", out var parsed) ? parsed : default;
        ReceiptCode? code = After(page, PageCodeMarker, ReceiptCode.Length + 2) is { } text && ReceiptCode.TryParse(Encoding.ASCII.GetString(text), out var read) ? read : null;
        return new VoteAnswer(VoteResult.Acknowledged, voteId, Code: code);
    }

    /// <summary>The <paramref name="length"/> bytes after <paramref name="marker"/> in <paramref name="page"/>, or null.</summary>
    private static byte[]? After(ReadOnlySpan<byte> page, ReadOnlySpan<byte> marker, int length)
    {
        var at = page.IndexOf(marker);
        return at >= 0 && at + marker.Length + length <= page.Length ? page.Slice(at + marker.Length, length).ToArray() : null;
    }

    private VoteAnswer ConfirmReceipt(ReadOnlySpan<byte> json, Guid voterId, int option) =>
        TryReadReceipt(json, voterId, option, out var voteId, out var acceptedAt, out var code)
            ? new VoteAnswer(VoteResult.Acknowledged, voteId, acceptedAt, Code: code)
            : new VoteAnswer(VoteResult.Unconfirmed);

    /// <summary>
    /// The answer <c>{"voteId","voterId","option","frontendId","acceptedAt","receipt":{"voteId","code"}}</c>, checked
    /// against the vote sent; the receipt's code is kept when its vote id is the answer's.
    /// </summary>
    private bool TryReadReceipt(ReadOnlySpan<byte> json, Guid voterId, int option, out Guid voteId, out DateTime acceptedAt, out ReceiptCode? code)
    {
        voteId = default;
        acceptedAt = default;
        code = null;
        var receiptVoteId = Guid.Empty;
        bool hasVoteId = false, hasAcceptedAt = false, sameVoter = false, sameOption = false;
        var reader = new Utf8JsonReader(json);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("voteId"u8))
                {
                    hasVoteId = reader.Read() && reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out voteId);
                }
                else if (reader.ValueTextEquals("voterId"u8))
                {
                    sameVoter = reader.Read() && reader.TokenType == JsonTokenType.String && reader.TryGetGuid(out var id) && id == voterId;
                }
                else if (reader.ValueTextEquals("option"u8))
                {
                    sameOption = reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(requests.KeyBytes[option]);
                }
                else if (reader.ValueTextEquals("acceptedAt"u8))
                {
                    hasAcceptedAt = reader.Read() && reader.TokenType == JsonTokenType.String && reader.TryGetDateTime(out acceptedAt);
                }
                else if (reader.ValueTextEquals("receipt"u8))
                {
                    if (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                    {
                        (receiptVoteId, code) = ReadReceiptObject(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        acceptedAt = acceptedAt.ToUniversalTime();
        if (receiptVoteId != voteId)
        {
            code = null;
        }

        return hasVoteId && hasAcceptedAt && sameVoter && sameOption;
    }

    /// <summary>The receipt object's vote id and code (null: none, or not a code), the reader left on its end.</summary>
    private static (Guid VoteId, ReceiptCode? Code) ReadReceiptObject(ref Utf8JsonReader reader)
    {
        var voteId = Guid.Empty;
        ReceiptCode? code = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isVoteId = reader.ValueTextEquals("voteId"u8);
            var isCode = reader.ValueTextEquals("code"u8);
            reader.Read();
            if (reader.TokenType != JsonTokenType.String)
            {
                reader.Skip();
            }
            else if (isVoteId)
            {
                voteId = reader.TryGetGuid(out var id) ? id : Guid.Empty;
            }
            else if (isCode)
            {
                code = ReceiptCode.TryParse(reader.GetString(), out var read) ? read : null;
            }
        }

        return (voteId, code);
    }
}
