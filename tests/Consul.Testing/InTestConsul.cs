using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Voting.Local;

namespace Voting.Clustering.Consul.Testing;

/// <summary>
/// A strict stand-in for a Consul agent, serving on a free loopback port the parts of Consul's HTTP API the membership
/// provider relies on: <c>GET/PUT/DELETE /v1/kv/{key}</c> (<c>recurse</c>, <c>keys</c>, <c>separator</c>, <c>raw</c>,
/// <c>cas</c>, <c>flags</c>, consistency modes) and <c>PUT /v1/txn</c> (KV verbs). Consul itself cannot be installed
/// on this machine; this is not Consul, but it answers as Consul's documentation and source say Consul answers, and
/// refuses what Consul refuses (see <see cref="InTestConsulStore"/> for the state machine).
/// <para>
/// ACLs: with a <see cref="RequiredToken"/>, a request whose token is another non-empty value gets 403 "ACL not found";
/// a request without token is the anonymous token with no rights: 403 "Permission denied" on single-key reads and every
/// KV write, listings filtered to nothing (404 with <c>X-Consul-Results-Filtered-By-ACLs: true</c>), and 409 with
/// "Permission denied" errors for transactions.
/// </para>
/// <para>
/// Faults for timeout and retry tests: <see cref="ResponseDelay"/>, <see cref="FailNext"/>,
/// <see cref="LoseAnswerToNextWrite"/>, and <see cref="StopAsync"/> / <see cref="RestartAsync"/> (connections refused).
/// </para>
/// </summary>
public sealed class InTestConsul : IAsyncDisposable
{
    public const int MaxTxnOperations = 64;
    private const string TokenHeader = "X-Consul-Token";
    private const string FilteredHeader = "X-Consul-Results-Filtered-By-ACLs";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = null };

    private readonly Lock _lock = new();
    private readonly List<InTestConsulRequest> _requests = [];
    private WebApplication? _app;
    private TimeSpan _responseDelay;
    private int _failuresLeft;
    private HttpStatusCode _failureStatus;
    private bool _loseNextWriteAnswer;

    private string? _requiredToken;

    private InTestConsul(int port, string? requiredToken, string? tokenKeyPrefix)
    {
        Port = port;
        _requiredToken = requiredToken;
        TokenKeyPrefix = tokenKeyPrefix;
    }

    public int Port { get; }

    /// <summary>The agent's HTTP address, <c>http://127.0.0.1:{port}</c>.</summary>
    public string Address => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// When set, ACLs are on with default-deny, and this is the only token with rights: read and write on every key,
    /// or on the keys under <see cref="TokenKeyPrefix"/>.
    /// </summary>
    public string? RequiredToken
    {
        get
        {
            lock (_lock)
            {
                return _requiredToken;
            }
        }
    }

    /// <summary>
    /// The token's policy, as Consul's <c>key_prefix "…" { policy = "write" }</c>: null for every key. A key outside it
    /// is answered as for the anonymous token (Consul's "Permission denied", listings filtered). A listing of a prefix
    /// that is shorter than the policy's is filtered to nothing here, where Consul would show the keys the policy
    /// covers: stricter, and no client of ours lists above its own root.
    /// </summary>
    public string? TokenKeyPrefix { get; }

    /// <summary>An operator's rotation: from now on the token is <paramref name="token"/>, and the old one is not found.</summary>
    public void RotateToken(string token)
    {
        lock (_lock)
        {
            _requiredToken = token;
        }
    }

    public InTestConsulStore Store { get; } = new();

    /// <summary>Every request received so far, in arrival order.</summary>
    public IReadOnlyList<InTestConsulRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>How long every request waits before it is handled (0: not at all).</summary>
    public TimeSpan ResponseDelay
    {
        get
        {
            lock (_lock)
            {
                return _responseDelay;
            }
        }

        set
        {
            lock (_lock)
            {
                _responseDelay = value;
            }
        }
    }

    public static async Task<InTestConsul> StartAsync(string? requiredToken = null, string? tokenKeyPrefix = null)
    {
        var consul = new InTestConsul(FreePort.Next(), requiredToken, tokenKeyPrefix);
        await consul.RestartAsync();
        return consul;
    }

    /// <summary>Starts listening (again, after <see cref="StopAsync"/>) on the same port; the keys are kept.</summary>
    public async Task RestartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, Port));
        var app = builder.Build();
        app.Run(HandleAsync);
        await app.StartAsync();
        _app = app;
    }

    /// <summary>Stops listening: connections to the port are refused until <see cref="RestartAsync"/>.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    /// <summary>Answers the next <paramref name="count"/> requests with <paramref name="status"/> without handling them.</summary>
    public void FailNext(int count, HttpStatusCode status = HttpStatusCode.InternalServerError)
    {
        lock (_lock)
        {
            _failuresLeft = count;
            _failureStatus = status;
        }
    }

    /// <summary>Applies the next write (KV PUT or DELETE, or a transaction with a write), then drops the connection unanswered.</summary>
    public void LoseAnswerToNextWrite()
    {
        lock (_lock)
        {
            _loseNextWriteAnswer = true;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var (tokenSource, token) = ReadToken(request);
        lock (_lock)
        {
            _requests.Add(new InTestConsulRequest(request.Method, request.Path.Value ?? "", request.QueryString.Value ?? "", tokenSource, token));
        }

        var delay = ResponseDelay;
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (TakeFailure() is { } failure)
        {
            await TextAsync(context, failure, "rpc error making call: No cluster leader");
            return;
        }

        var path = request.Path.Value ?? "";
        if (path.StartsWith("/v1/kv/", StringComparison.Ordinal))
        {
            var key = path["/v1/kv/".Length..];
            await KvAsync(context, key, Authorize(token, key));
        }
        else if (path == "/v1/txn")
        {
            await TxnAsync(context, token);
        }
        else
        {
            await TextAsync(context, HttpStatusCode.NotFound, $"the in-test Consul does not serve {path}");
        }
    }

    private async Task KvAsync(HttpContext context, string key, Access access)
    {
        var query = context.Request.Query;
        if (key.Length > 0 && KeyProblem(key) is { } problem)
        {
            await TextAsync(context, HttpStatusCode.BadRequest, problem);
            return;
        }

        switch (context.Request.Method)
        {
            case "GET":
                await KvGetAsync(context, key, access);
                return;

            case "PUT":
                if (key.Length == 0)
                {
                    await TextAsync(context, HttpStatusCode.BadRequest, "Missing key name");
                    return;
                }

                if (Conflicting(query, "cas", "acquire", "release"))
                {
                    await TextAsync(context, HttpStatusCode.BadRequest, $"Conflicting flags: {context.Request.QueryString}");
                    return;
                }

                if (query.ContainsKey("acquire") || query.ContainsKey("release"))
                {
                    await TextAsync(context, HttpStatusCode.BadRequest, "sessions are not implemented by the in-test Consul");
                    return;
                }

                if (await WriteRefusedAsync(context, access))
                {
                    return;
                }

                if (!TryReadNumber(query, "flags", out var flags) || !TryReadNumber(query, "cas", out var cas))
                {
                    await TextAsync(context, HttpStatusCode.InternalServerError, "strconv.ParseUint: invalid syntax");
                    return;
                }

                var value = await ReadBodyAsync(context.Request);
                if (value.Length > InTestConsulStore.MaxValueBytes)
                {
                    await TextAsync(context, HttpStatusCode.RequestEntityTooLarge, $"Request body({value.Length} bytes) too large, max size: {InTestConsulStore.MaxValueBytes} bytes.");
                    return;
                }

                var written = Store.Put(key, value.Length == 0 ? null : value, flags ?? 0, cas);
                if (!TakeLostAnswer(context))
                {
                    await JsonAsync(context, HttpStatusCode.OK, cas is null || written);
                }

                return;

            case "DELETE":
                if (Conflicting(query, "recurse", "cas"))
                {
                    await TextAsync(context, HttpStatusCode.BadRequest, $"Conflicting flags: {context.Request.QueryString}");
                    return;
                }

                var recurse = query.ContainsKey("recurse");
                if (!recurse && key.Length == 0)
                {
                    await TextAsync(context, HttpStatusCode.BadRequest, "Missing key name");
                    return;
                }

                if (await WriteRefusedAsync(context, access))
                {
                    return;
                }

                if (!TryReadNumber(query, "cas", out var deleteCas))
                {
                    await TextAsync(context, HttpStatusCode.InternalServerError, "strconv.ParseUint: invalid syntax");
                    return;
                }

                var deleted = true;
                if (recurse)
                {
                    Store.DeleteTree(key);
                }
                else
                {
                    deleted = Store.Delete(key, deleteCas);
                }

                if (!TakeLostAnswer(context))
                {
                    await JsonAsync(context, HttpStatusCode.OK, deleteCas is null || deleted);
                }

                return;

            default:
                await TextAsync(context, HttpStatusCode.MethodNotAllowed, $"method {context.Request.Method} not allowed");
                return;
        }
    }

    private async Task KvGetAsync(HttpContext context, string key, Access access)
    {
        var query = context.Request.Query;
        if (query.ContainsKey("stale") && query.ContainsKey("consistent"))
        {
            await TextAsync(context, HttpStatusCode.BadRequest, "Cannot specify ?stale with ?consistent, conflicting semantics.");
            return;
        }

        if (access == Access.UnknownToken)
        {
            await TextAsync(context, HttpStatusCode.Forbidden, "ACL not found");
            return;
        }

        var response = context.Response;
        response.Headers["X-Consul-KnownLeader"] = "true";
        response.Headers["X-Consul-LastContact"] = "0";
        if (query.ContainsKey("keys"))
        {
            var separator = query.TryGetValue("separator", out var s) ? s.ToString() : query.TryGetValue("seperator", out var t) ? t.ToString() : null;
            var (keys, keysIndex) = Store.Keys(key, separator);
            SetIndex(response, keysIndex);
            if (access == Access.Anonymous && keys.Count > 0)
            {
                response.Headers[FilteredHeader] = "true";
                keys = [];
            }

            if (keys.Count == 0 && key.Length > 0)
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await JsonAsync(context, HttpStatusCode.OK, keys);
            return;
        }

        if (query.ContainsKey("recurse"))
        {
            var (entries, listIndex) = Store.List(key);
            SetIndex(response, listIndex);
            if (access == Access.Anonymous && entries.Count > 0)
            {
                response.Headers[FilteredHeader] = "true";
                entries = [];
            }

            if (entries.Count == 0)
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await JsonAsync(context, HttpStatusCode.OK, entries.Select(Wire).ToList());
            return;
        }

        if (key.Length == 0)
        {
            await TextAsync(context, HttpStatusCode.BadRequest, "Missing key name");
            return;
        }

        if (access == Access.Anonymous)
        {
            await TextAsync(context, HttpStatusCode.Forbidden, "Permission denied");
            return;
        }

        var (entry, index) = Store.Get(key);
        SetIndex(response, index);
        if (entry is null)
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (query.ContainsKey("raw"))
        {
            response.ContentType = "text/plain";
            response.Headers["X-Content-Type-Options"] = "nosniff";
            await response.Body.WriteAsync(entry.Value ?? []);
            return;
        }

        await JsonAsync(context, HttpStatusCode.OK, new[] { Wire(entry) });
    }

    private async Task TxnAsync(HttpContext context, string? token)
    {
        var access = Authorize(token, key: null);
        if (context.Request.Method != "PUT")
        {
            await TextAsync(context, HttpStatusCode.MethodNotAllowed, $"method {context.Request.Method} not allowed");
            return;
        }

        List<InTestConsulStore.Operation> operations;
        try
        {
            operations = ParseOperations(await ReadBodyAsync(context.Request));
        }
        catch (FormatException e)
        {
            await TextAsync(context, HttpStatusCode.BadRequest, $"Failed to parse body: {e.Message}");
            return;
        }
        catch (NotSupportedException e)
        {
            await TextAsync(context, HttpStatusCode.BadRequest, e.Message);
            return;
        }

        if (operations.Count > MaxTxnOperations)
        {
            await TextAsync(context, HttpStatusCode.RequestEntityTooLarge, $"Transaction contains too many operations ({operations.Count} > {MaxTxnOperations})");
            return;
        }

        if (operations.FirstOrDefault(o => o.Value?.Length > InTestConsulStore.MaxValueBytes) is { } tooLarge)
        {
            await TextAsync(context, HttpStatusCode.RequestEntityTooLarge, $"Value for key \"{tooLarge.Key}\" is too large ({tooLarge.Value!.Length} > {InTestConsulStore.MaxValueBytes} bytes)");
            return;
        }

        var writes = operations.Any(o => InTestConsulStore.IsWrite(o.Verb));
        if (!writes && context.Request.Query.ContainsKey("stale") && context.Request.Query.ContainsKey("consistent"))
        {
            await TextAsync(context, HttpStatusCode.BadRequest, "Cannot specify ?stale with ?consistent, conflicting semantics.");
            return;
        }

        if (access == Access.UnknownToken)
        {
            await TextAsync(context, HttpStatusCode.Forbidden, "ACL not found");
            return;
        }

        // Consul's pre-checks, before anything reaches raft: a key is required, and the token needs the rights.
        var refusals = new List<InTestConsulStore.TxnError>();
        for (var i = 0; i < operations.Count; i++)
        {
            var op = operations[i];
            if (op.Key.Length == 0 && op.Verb != "delete-tree")
            {
                refusals.Add(new InTestConsulStore.TxnError(i, "Must provide key"));
            }
            else if (Authorize(token, op.Key) == Access.Anonymous && op.Verb is not ("get" or "get-or-empty" or "get-tree"))
            {
                refusals.Add(new InTestConsulStore.TxnError(i, "Permission denied"));
            }
        }

        var outcome = refusals.Count > 0 ? new InTestConsulStore.TxnOutcome([], refusals) : Store.Transact(operations);
        if (writes && refusals.Count == 0 && TakeLostAnswer(context))
        {
            return;
        }

        // The anonymous token may read nothing: its results are filtered out.
        var results = outcome.Results.Where(e => Authorize(token, e.Key) == Access.Full).ToList();
        var body = new TxnResponse(
            outcome.Committed ? results.Select(e => new TxnResult(Wire(e))).ToList() : null,
            outcome.Committed ? null : outcome.Errors.Select(e => new TxnErrorWire(e.OpIndex, e.What)).ToList());
        await JsonAsync(context, outcome.Committed ? HttpStatusCode.OK : HttpStatusCode.Conflict, body);
    }

    /// <summary>The JSON array of <c>PUT /v1/txn</c>, read as Go reads it: field names in any case, values in base64.</summary>
    private static List<InTestConsulStore.Operation> ParseOperations(byte[] body)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new FormatException(e.Message, e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new FormatException("json: cannot unmarshal into Go value of type api.TxnOps");
            }

            var operations = new List<InTestConsulStore.Operation>();
            foreach (var element in document.RootElement.EnumerateArray())
            {
                if (Field(element, "KV") is not { ValueKind: JsonValueKind.Object } kv)
                {
                    throw new NotSupportedException("the in-test Consul implements only KV operations in transactions");
                }

                byte[]? value = null;
                if (Field(kv, "Value") is { ValueKind: JsonValueKind.String } encoded)
                {
                    try
                    {
                        value = Convert.FromBase64String(encoded.GetString()!);
                    }
                    catch (FormatException e)
                    {
                        throw new FormatException($"failed to decode value: {e.Message}", e);
                    }
                }

                operations.Add(new InTestConsulStore.Operation(
                    Text(kv, "Verb"),
                    Text(kv, "Key"),
                    value,
                    Number(kv, "Flags"),
                    Number(kv, "Index")));
            }

            return operations;
        }

        static JsonElement? Field(JsonElement element, string name) =>
            element.EnumerateObject().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) is { Value.ValueKind: not JsonValueKind.Undefined } property
                ? property.Value
                : null;

        static string Text(JsonElement element, string name) => Field(element, name) switch
        {
            { ValueKind: JsonValueKind.String } text => text.GetString()!,
            null or { ValueKind: JsonValueKind.Null } => "",
            _ => throw new FormatException($"json: cannot unmarshal {name} into a string"),
        };

        static ulong Number(JsonElement element, string name) => Field(element, name) switch
        {
            { ValueKind: JsonValueKind.Number } number when number.TryGetUInt64(out var n) => n,
            null or { ValueKind: JsonValueKind.Null } => 0,
            _ => throw new FormatException($"json: cannot unmarshal {name} into a uint64"),
        };
    }

    /// <summary>Recent Consul versions accept only these characters in a key, and no leading slash or <c>../</c>.</summary>
    private static string? KeyProblem(string key)
    {
        if (key.StartsWith('/'))
        {
            return "key must not begin with a '/'";
        }

        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (!char.IsAsciiLetterOrDigit(c) && c is not (',' or '-' or '_' or '.' or '/'))
            {
                return $"key contains invalid character '{c}' at position {i}. Only alphanumeric characters and ,-_./ are allowed";
            }
        }

        return key.Contains("../", StringComparison.Ordinal) ? "key contains path traversal sequence" : null;
    }

    /// <summary>What <paramref name="token"/> may do with <paramref name="key"/> (null: whether the token is known at all).</summary>
    private Access Authorize(string? token, string? key)
    {
        var required = RequiredToken;
        return required is null ? Access.Full
            : token == required ? (key is null || TokenKeyPrefix is null || key.StartsWith(TokenKeyPrefix, StringComparison.Ordinal) ? Access.Full : Access.Anonymous)
            : string.IsNullOrEmpty(token) ? Access.Anonymous
            : Access.UnknownToken;
    }

    private static async Task<bool> WriteRefusedAsync(HttpContext context, Access access)
    {
        if (access == Access.UnknownToken)
        {
            await TextAsync(context, HttpStatusCode.Forbidden, "ACL not found");
            return true;
        }

        if (access == Access.Anonymous)
        {
            await TextAsync(context, HttpStatusCode.Forbidden, "Permission denied");
            return true;
        }

        return false;
    }

    /// <summary>Where Consul looks for a token, in its order: <c>?token=</c>, then <c>X-Consul-Token</c>, then a bearer token.</summary>
    private static (string Source, string? Token) ReadToken(HttpRequest request)
    {
        if (request.Query.TryGetValue("token", out var query) && !string.IsNullOrEmpty(query))
        {
            return ("query", query.ToString());
        }

        if (request.Headers.TryGetValue(TokenHeader, out var header) && !string.IsNullOrEmpty(header))
        {
            return ("header", header.ToString());
        }

        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? ("bearer", authorization["Bearer ".Length..].Trim())
            : ("none", null);
    }

    private HttpStatusCode? TakeFailure()
    {
        lock (_lock)
        {
            if (_failuresLeft <= 0)
            {
                return null;
            }

            _failuresLeft--;
            return _failureStatus;
        }
    }

    private bool TakeLostAnswer(HttpContext context)
    {
        lock (_lock)
        {
            if (!_loseNextWriteAnswer)
            {
                return false;
            }

            _loseNextWriteAnswer = false;
        }

        context.Abort();
        return true;
    }

    private static bool Conflicting(IQueryCollection query, params string[] flags) => flags.Count(query.ContainsKey) > 1;

    private static bool TryReadNumber(IQueryCollection query, string name, out ulong? number)
    {
        number = null;
        if (!query.TryGetValue(name, out var text))
        {
            return true;
        }

        if (ulong.TryParse(text.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
        {
            number = parsed;
            return true;
        }

        return false;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    private static void SetIndex(HttpResponse response, ulong index) =>
        response.Headers["X-Consul-Index"] = index.ToString(CultureInfo.InvariantCulture);

    private static WireEntry Wire(InTestConsulStore.Entry entry) =>
        new(0, entry.Key, entry.Flags, entry.Value, entry.CreateIndex, entry.ModifyIndex);

    private static Task TextAsync(HttpContext context, HttpStatusCode status, string text)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text, Encoding.UTF8);
    }

    private static Task JsonAsync<T>(HttpContext context, HttpStatusCode status, T body)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(body, Json)).AsTask();
    }

    private enum Access
    {
        Full,
        Anonymous,
        UnknownToken,
    }

    private sealed record WireEntry(ulong LockIndex, string Key, ulong Flags, byte[]? Value, ulong CreateIndex, ulong ModifyIndex);

    private sealed record TxnResult(WireEntry KV);

    private sealed record TxnErrorWire(int OpIndex, string What);

    private sealed record TxnResponse(List<TxnResult>? Results, List<TxnErrorWire>? Errors);
}

/// <summary>A request as the in-test Consul received it; <see cref="TokenSource"/> is query, header, bearer or none.</summary>
public sealed record InTestConsulRequest(string Method, string Path, string Query, string TokenSource, string? Token);
