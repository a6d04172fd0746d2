using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// Bad input as a class, not one case per bug: every public port — a front end, the balancer, the results app — gets
/// the cross product of methods, paths, content types (with odd parameters and charsets), bodies (random bytes, cut
/// multipart, half a form, invalid UTF-8) and framings (a length, chunked, a body shorter than its length, broken
/// chunks), plus oversized and malformed headers, over raw sockets so that nothing is tidied up on the way. No answer
/// may be a 5xx other than a 503 with a reason, and none may hang.
/// </summary>
[Collection(VotingSystemCollection.Name)]
public sealed class RequestFuzzTests(VotingSystemFixture system, ITestOutputHelper output)
{
    // A client that stops sending half-way is answered at once here: every request ends, or half-closes its side.
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(10);

    private static readonly string[] Paths = ["/", "/api/votes", "/api/options", "/api/results", "/health/ready", "/%ZZ/..;/x?a=%"];

    private static readonly string[] Methods = ["POST", "PUT", "GET"];

    private static readonly List<string> Samples = [];

    private static readonly string?[] ContentTypes =
    [
        null,
        "application/json",
        "application/json; charset=utf-16",
        "application/json; charset=bogus",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=bogus",
        "multipart/form-data; boundary=XyZ",
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"unterminated",
        "text/plain",
        "application/octet-stream",
        ";;;===",
        "application/json; charset=\"utf-8",
    ];

    private static IEnumerable<(string Name, byte[] Body)> Bodies()
    {
        yield return ("empty", []);
        yield return ("json vote", "{\"option\":\"a\"}"u8.ToArray());
        yield return ("form vote", "vote=a"u8.ToArray());
        yield return ("multipart without its closing boundary", "--XyZ\r\nContent-Disposition: form-data; name=\"vote\"\r\n\r\na\r\n"u8.ToArray());
        yield return ("multipart cut in its headers", "--XyZ\r\nContent-Disposition: form-da"u8.ToArray());
        yield return ("multipart whole", "--XyZ\r\nContent-Disposition: form-data; name=\"vote\"\r\n\r\na\r\n--XyZ--\r\n"u8.ToArray());
        yield return ("multipart with a file part", "--XyZ\r\nContent-Disposition: form-data; name=\"vote\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\naaaa\r\n--XyZ--\r\n"u8.ToArray());
        yield return ("invalid UTF-8", [0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]);
        yield return ("percent-encoding cut short", "vote=%E2%82&vote=%"u8.ToArray());
        yield return ("NUL bytes", [0, 0, 0, 0x3d, 0x61]);
        var random = new Random(20261201);
        var bytes = new byte[2500];
        random.NextBytes(bytes);
        yield return ($"{bytes.Length} random bytes", bytes);
    }

    private enum Framing
    {
        Length,
        Chunked,
        ShorterThanItsLength,
        BrokenChunks,
    }

    private IEnumerable<(string Name, Uri Address)> Ports() =>
    [
        ("front end", system.Frontends[0].App.BaseAddress),
        ("balancer", system.Balancer.BaseAddress),
        ("results", system.Results.BaseAddress),
    ];

    [Fact]
    public async Task NoRequestOfAnyShapeGetsAServerErrorOrHangsOnAnyPublicPort()
    {
        var failures = new List<string>();
        var answers = new SortedDictionary<int, int>();
        foreach (var (port, address) in Ports())
        {
            // Many voters, a few requests each, each from an address of its own: what is tried here is the parsing of
            // every shape of request, not the per-client limits, which would refuse one voter's thousandth vote unread.
            var (forwardedFor, cookie) = await VoterAsync(address);
            var requests = 0;
            foreach (var path in Paths)
            {
                foreach (var method in Methods)
                {
                    foreach (var contentType in ContentTypes)
                    {
                        foreach (var (bodyName, body) in Bodies())
                        {
                            // Every framing for posts to the vote paths; one for the rest, to keep the product in bounds.
                            var framings = path is "/" or "/api/votes" && method == "POST" ? Enum.GetValues<Framing>() : [Framing.Length];
                            foreach (var framing in framings)
                            {
                                if (++requests % 5 == 0)
                                {
                                    (forwardedFor, cookie) = await VoterAsync(address);
                                }

                                var request = Request(method, path, address, contentType, cookie, forwardedFor, body, framing);
                                var what = $"{port} {method} {path} [{contentType ?? "no content type"}] {bodyName}, {framing}";
                                await CheckAsync(address, request, halfClose: framing is Framing.ShorterThanItsLength or Framing.BrokenChunks, what, failures, answers);
                            }
                        }
                    }
                }
            }

            foreach (var (name, head) in OddHeads(address, cookie))
            {
                await CheckAsync(address, Encoding.Latin1.GetBytes(head), halfClose: true, $"{port}: {name}", failures, answers);
            }
        }

        output.WriteLine("answers: " + string.Join(", ", answers.Select(a => $"{a.Key}: {a.Value}")));
        output.WriteLine(string.Join("\n", Samples));
        Assert.True(failures.Count == 0, $"{failures.Count} requests got a server error or no answer:\n" + string.Join("\n", failures.Take(40)));
    }

    /// <summary>Heads that break the rules of HTTP/1.1 itself: Kestrel's limits and parser must answer them.</summary>
    private static IEnumerable<(string Name, string Head)> OddHeads(Uri address, string cookie)
    {
        var host = $"Host: {address.Authority}\r\n";
        yield return ("a 64 KiB header", $"GET / HTTP/1.1\r\n{host}X-Big: {new string('a', 65536)}\r\n\r\n");
        yield return ("300 headers", $"GET / HTTP/1.1\r\n{host}{string.Concat(Enumerable.Range(0, 300).Select(i => $"X-H{i}: {i}\r\n"))}\r\n");
        yield return ("a 20 KiB request target", $"GET /{new string('a', 20000)} HTTP/1.1\r\n{host}\r\n");
        yield return ("a 10 KiB cookie", $"GET / HTTP/1.1\r\n{host}Cookie: voter_id={new string('x', 10000)}\r\n\r\n");
        yield return ("a tampered cookie on a vote", $"POST /api/votes HTTP/1.1\r\n{host}Cookie: {cookie}x\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{{\"option\":\"a\"}}");
        yield return ("a header without a colon", $"GET / HTTP/1.1\r\n{host}NoColon\r\n\r\n");
        yield return ("no Host header", "GET / HTTP/1.1\r\n\r\n");
        yield return ("two Content-Length headers", $"POST /api/votes HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: 14\r\nContent-Length: 3\r\n\r\n{{\"option\":\"a\"}}");
        yield return ("Content-Length and chunked", $"POST /api/votes HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        yield return ("a negative Content-Length", $"POST /api/votes HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: -5\r\n\r\n");
        yield return ("a gzip body that is not gzip", $"POST /api/votes HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: 14\r\n\r\n{{\"option\":\"a\"}}");
        yield return ("an unknown transfer coding", $"POST /api/votes HTTP/1.1\r\n{host}Content-Type: application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
        yield return ("HTTP/1.0 without a length", $"POST /api/votes HTTP/1.0\r\n{host}Content-Type: application/json\r\n\r\n{{\"option\":\"a\"}}");
        yield return ("a request line of garbage", "\u0001\u0002 / HTTP/9.9\r\n\r\n");
    }

    private static byte[] Request(string method, string path, Uri address, string? contentType, string cookie, string forwardedFor, byte[] body, Framing framing)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: {address.Authority}\r\nCookie: {cookie}\r\nX-Forwarded-For: {forwardedFor}\r\nConnection: close\r\n");
        if (contentType is not null)
        {
            head.Append($"Content-Type: {contentType}\r\n");
        }

        var payload = new MemoryStream();
        switch (framing)
        {
            case Framing.Length:
                head.Append($"Content-Length: {body.Length}\r\n\r\n");
                payload.Write(body);
                break;
            case Framing.ShorterThanItsLength:
                // The client stops sending (and half-closes) before the length it announced.
                head.Append($"Content-Length: {body.Length + 100}\r\n\r\n");
                payload.Write(body);
                break;
            case Framing.Chunked:
                head.Append("Transfer-Encoding: chunked\r\n\r\n");
                foreach (var chunk in body.Chunk(7))
                {
                    payload.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
                    payload.Write(chunk);
                    payload.Write("\r\n"u8);
                }

                payload.Write("0\r\n\r\n"u8);
                break;
            case Framing.BrokenChunks:
                // A good chunk, then a chunk size that is not hexadecimal.
                head.Append("Transfer-Encoding: chunked\r\n\r\n");
                payload.Write(Encoding.ASCII.GetBytes($"{body.Length:x}\r\n"));
                payload.Write(body);
                payload.Write("\r\nzz\r\n"u8);
                break;
        }

        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. payload.ToArray()];
    }

    private static async Task CheckAsync(Uri address, byte[] request, bool halfClose, string what, List<string> failures, SortedDictionary<int, int> answers)
    {
        var (status, text) = await SendAsync(address, request, halfClose);
        answers[status] = answers.GetValueOrDefault(status) + 1;
        // A few of each answer that is not a plain status, per port, for the log.
        var kind = $"{status} {what.Split(' ')[0]}";
        if (status is 0 or 503 && Samples.Count(x => x.StartsWith(kind, StringComparison.Ordinal)) < 8)
        {
            Samples.Add($"{status} {what}");
        }

        // 0: the server closed the connection without an answer, which Kestrel does for some protocol violations
        // once it has answered what it could; that is neither an error page nor a hang.
        var acceptable = status is 0 or (>= 100 and < 500) || (status == 503 && text.Contains("Retry-After", StringComparison.OrdinalIgnoreCase));
        if (!acceptable)
        {
            failures.Add($"{what}: {(status < 0 ? "no answer within " + AnswerTimeout.TotalSeconds + " s" : status.ToString(System.Globalization.CultureInfo.InvariantCulture))} {Excerpt(text)}");
        }
    }

    /// <returns>The status code, 0 when the connection closed without an answer, -1 when nothing came in time.</returns>
    private static async Task<(int Status, string Text)> SendAsync(Uri address, byte[] request, bool halfClose)
    {
        using var timeout = new CancellationTokenSource(AnswerTimeout);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(address.Host, address.Port, timeout.Token);
            try
            {
                await socket.SendAsync(request, timeout.Token);
                if (halfClose)
                {
                    socket.Shutdown(SocketShutdown.Send);
                }
            }
            catch (SocketException)
            {
                // The server may answer and close before it read everything (an oversized head): read what it said.
            }

            var received = new MemoryStream();
            var buffer = new byte[16384];
            while (received.Length < 65536)
            {
                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer, timeout.Token);
                }
                catch (SocketException)
                {
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                received.Write(buffer, 0, read);
                if (IsComplete(received))
                {
                    break;
                }
            }

            return StatusOf(received) ?? (0, "");
        }
        catch (OperationCanceledException)
        {
            return (-1, "");
        }
    }

    private static (int Status, string Text)? StatusOf(MemoryStream received)
    {
        var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
        return text.StartsWith("HTTP/1.", StringComparison.Ordinal) && text.Length >= 12 && int.TryParse(text.AsSpan(9, 3), out var status)
            ? (status, text)
            : null;
    }

    /// <summary>Whether a whole answer is in: its head and the body its length or last chunk ends.</summary>
    private static bool IsComplete(MemoryStream received)
    {
        var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var head = text[..end];
        var length = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (length is not null && int.TryParse(length["Content-Length:".Length..].Trim(), out var bytes))
        {
            return text.Length - end - 4 >= bytes;
        }

        return head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) ? text.EndsWith("0\r\n\r\n", StringComparison.Ordinal) : false;
    }

    private static string Excerpt(string text) => text.Length <= 300 ? text : text[..300];

    /// <summary>
    /// A voter of its own: a client address and the voter cookie the address issues to it (the front end or the
    /// balancer; the results app issues none).
    /// </summary>
    private static async Task<(string ForwardedFor, string Cookie)> VoterAsync(Uri address)
    {
        var forwardedFor = ClientAddresses.Next();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        using var response = await http.GetAsync(address);
        return (forwardedFor, response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.FirstOrDefault() is { } cookie
            ? cookie.Split(';')[0]
            : "voter_id=none");
    }
}
