using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Voting.Clustering.Consul;

/// <summary>When a failed request may be sent again.</summary>
internal enum ConsulRetry
{
    /// <summary>Reads, and writes whose repetition changes nothing: retried after timeouts, transport errors and 5xx.</summary>
    Idempotent,

    /// <summary>
    /// Conditional writes: retried only when the connection was refused, so Consul never saw the request. Once it may
    /// have been applied, a repeat could fail its own check-and-set and report a conflict that never happened.
    /// </summary>
    OnlyIfNotSent,
}

/// <summary>The keys under a prefix, read in one consistent snapshot.</summary>
internal sealed record ConsulTree(IReadOnlyList<ConsulKvPair> Pairs);

/// <summary>The outcome of a transaction: committed, or rolled back with the reasons Consul gave (nothing applied).</summary>
internal sealed record ConsulTxnOutcome(bool Committed, IReadOnlyList<ConsulTxnResult> Results, IReadOnlyList<ConsulTxnError> Errors)
{
    public string Describe() => string.Join("; ", Errors.Select(e => $"op {e.OpIndex}: {e.What}"));
}

/// <summary>
/// A small client for the parts of Consul's HTTP API the membership table uses: <c>/v1/kv</c> and <c>/v1/txn</c>.
/// Every request has a timeout; failures are retried a bounded number of times with doubling pauses, and each failed
/// attempt is logged, so an unreachable Consul shows up in the logs and ends in a <see cref="ConsulClusteringException"/>
/// instead of a hang.
/// <para>
/// This class alone decides whether a request is sent again. <see cref="SocketsHttpHandler"/> resends by itself only a
/// request without a body whose pooled connection turned out to be closed before any answer; every write here has a
/// body, so a conditional write is never repeated underneath.
/// </para>
/// </summary>
internal sealed partial class ConsulKvClient : IDisposable
{
    private const string TokenHeader = "X-Consul-Token";
    private const string FilteredHeader = "X-Consul-Results-Filtered-By-ACLs";
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly ConsulClusteringOptions _options;
    private readonly ILogger _logger;
    private readonly ConsulToken _token;

    public ConsulKvClient(ConsulClusteringOptions options, ILogger<ConsulKvClient> logger)
    {
        _options = options;
        _logger = logger;
        var address = options.Address.EndsWith('/') ? options.Address : options.Address + "/";
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2) }, disposeHandler: true)
        {
            BaseAddress = new Uri(address, UriKind.Absolute),
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _token = new ConsulToken(options);
    }

    public string Address => _options.Address;

    /// <summary>Every key under <paramref name="prefix"/>, read with <c>?recurse&amp;consistent</c>.</summary>
    public async Task<ConsulTree> ReadTreeAsync(string prefix, CancellationToken cancellationToken)
    {
        var path = $"v1/kv/{prefix}?recurse&consistent";
        var answer = await SendAsync(HttpMethod.Get, path, content: null, ConsulRetry.Idempotent, cancellationToken);
        if (answer.FilteredByAcls)
        {
            // Consul drops the keys a token may not read and answers as if they did not exist: an "empty table"
            // here would be a lie that makes a silo start a new cluster.
            throw AccessDenied(HttpMethod.Get, path, "some keys were left out because the ACL token may not read them");
        }

        return answer.Status switch
        {
            HttpStatusCode.OK => new ConsulTree(Deserialize(answer, ConsulWireJson.Default.ConsulKvPairArray, path)),
            HttpStatusCode.NotFound => new ConsulTree([]),
            _ => throw Unexpected(HttpMethod.Get, path, answer),
        };
    }

    /// <summary><c>PUT /v1/kv/{key}?cas={index}</c>: with index 0, creates the key only if it is absent. True when written.</summary>
    public async Task<bool> PutCasAsync(string key, byte[] value, ulong index, ConsulRetry retry, CancellationToken cancellationToken)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"v1/kv/{key}?cas={index}");
        var answer = await SendAsync(HttpMethod.Put, path, value, retry, cancellationToken);
        return answer.Status == HttpStatusCode.OK
            ? Deserialize(answer, ConsulWireJson.Default.Boolean, path)
            : throw Unexpected(HttpMethod.Put, path, answer);
    }

    /// <summary><c>DELETE /v1/kv/{prefix}?recurse</c>: removes every key under the prefix.</summary>
    public async Task DeleteTreeAsync(string prefix, CancellationToken cancellationToken)
    {
        var path = $"v1/kv/{prefix}?recurse";
        var answer = await SendAsync(HttpMethod.Delete, path, content: null, ConsulRetry.Idempotent, cancellationToken);
        if (answer.Status != HttpStatusCode.OK)
        {
            throw Unexpected(HttpMethod.Delete, path, answer);
        }
    }

    /// <summary><c>PUT /v1/txn</c>: applies all operations atomically, or none of them (HTTP 409 with the reasons).</summary>
    public async Task<ConsulTxnOutcome> TransactAsync(IReadOnlyList<ConsulTxnOperation> operations, ConsulRetry retry, CancellationToken cancellationToken)
    {
        const string path = "v1/txn";
        var body = JsonSerializer.SerializeToUtf8Bytes(operations.ToArray(), ConsulWireJson.Default.ConsulTxnOperationArray);
        var answer = await SendAsync(HttpMethod.Put, path, body, retry, cancellationToken);
        if (answer.Status is not (HttpStatusCode.OK or HttpStatusCode.Conflict))
        {
            throw Unexpected(HttpMethod.Put, path, answer);
        }

        var response = Deserialize(answer, ConsulWireJson.Default.ConsulTxnResponse, path);
        var outcome = new ConsulTxnOutcome(answer.Status == HttpStatusCode.OK, response.Results ?? [], response.Errors ?? []);
        if (!outcome.Committed && outcome.Errors.Any(e => IsAclError(e.What)))
        {
            // A transaction the token may not run is rolled back like a conflict; it must not be reported as one.
            throw AccessDenied(HttpMethod.Put, path, outcome.Describe());
        }

        return outcome;
    }

    public void Dispose() => _http.Dispose();

    private async Task<Answer> SendAsync(HttpMethod method, string path, byte[]? content, ConsulRetry retry, CancellationToken cancellationToken)
    {
        var attempts = _options.RetryCount + 1;
        for (var attempt = 1; ; attempt++)
        {
            string failure;
            bool maybeApplied;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(_options.RequestTimeout);
                try
                {
                    using var request = new HttpRequestMessage(method, path);
                    if (_token.Current is { } token)
                    {
                        // A header, never the ?token= query parameter: URLs end up in logs.
                        request.Headers.Add(TokenHeader, token);
                    }

                    if (content is not null)
                    {
                        request.Content = new ByteArrayContent(content);
                    }

                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
                    var body = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                    var answer = new Answer(response.StatusCode, IsFiltered(response.Headers), body);
                    if (answer.Status == HttpStatusCode.Forbidden)
                    {
                        throw AccessDenied(method, path, $"HTTP 403 {answer.Text}");
                    }

                    if ((int)answer.Status < 500 && answer.Status != HttpStatusCode.TooManyRequests)
                    {
                        return answer;
                    }

                    failure = $"HTTP {(int)answer.Status} {answer.Text}";
                    // Consul's rate limiter answers 429 before it looks at the request.
                    maybeApplied = answer.Status != HttpStatusCode.TooManyRequests;
                }
                catch (HttpRequestException e) when (e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError)
                {
                    failure = $"cannot connect ({e.Message})";
                    maybeApplied = false;
                }
                catch (HttpRequestException e)
                {
                    failure = $"the exchange broke off ({e.Message})";
                    maybeApplied = true;
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = $"no answer within {_options.RequestTimeout} (setting {ConsulClusteringOptions.SectionName}:RequestTimeout)";
                    maybeApplied = true;
                }
            }

            if (maybeApplied && retry == ConsulRetry.OnlyIfNotSent)
            {
                LogOutcomeUnknown(_logger, Address, method.Method, path, failure);
                throw new ConsulClusteringException(
                    $"Consul at {Address} may or may not have applied {method.Method} /{path}: {failure}. A conditional write is not repeated blindly; the membership table has to be read again to learn its outcome.");
            }

            if (attempt >= attempts)
            {
                LogUnreachable(_logger, Address, method.Method, path, attempts, failure);
                throw new ConsulClusteringException(
                    $"Consul at {Address} did not answer {method.Method} /{path} after {attempts} attempt(s): {failure}. Check setting {ConsulClusteringOptions.SectionName}:Address and that Consul is running.");
            }

            var delay = Backoff(attempt);
            LogRetrying(_logger, Address, method.Method, path, attempt, attempts, failure, delay);
            await Task.Delay(delay, cancellationToken);
        }
    }

    private TimeSpan Backoff(int attempt)
    {
        var delay = _options.RetryBackoff * Math.Pow(2, attempt - 1);
        return delay < MaxBackoff ? delay : MaxBackoff;
    }

    private static bool IsFiltered(HttpResponseHeaders headers) =>
        headers.TryGetValues(FilteredHeader, out var values) && values.Contains("true", StringComparer.OrdinalIgnoreCase);

    private static bool IsAclError(string what) =>
        what.Contains("Permission denied", StringComparison.OrdinalIgnoreCase)
        || what.Contains("ACL not found", StringComparison.OrdinalIgnoreCase);

    private ConsulClusteringException AccessDenied(HttpMethod method, string path, string detail)
    {
        LogAccessDenied(_logger, Address, method.Method, path, detail);
        return new ConsulClusteringException(
            $"Consul at {Address} refused {method.Method} /{path}: {detail}. Check setting {ConsulClusteringOptions.SectionName}:Token (or :TokenFile): the ACL token needs key read and write access to the membership keys.");
    }

    private ConsulClusteringException Unexpected(HttpMethod method, string path, Answer answer) =>
        new($"Consul at {Address} answered {method.Method} /{path} with HTTP {(int)answer.Status}: {answer.Text}");

    private T Deserialize<T>(Answer answer, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string path)
    {
        try
        {
            return JsonSerializer.Deserialize(answer.Body, type) ?? throw new JsonException("the answer is null");
        }
        catch (JsonException e)
        {
            throw new ConsulClusteringException($"Consul at {Address} answered /{path} with something that is not Consul's JSON: {e.Message}", e);
        }
    }

    /// <summary>A buffered answer: status, whether ACLs filtered it, and the body.</summary>
    private sealed record Answer(HttpStatusCode Status, bool FilteredByAcls, byte[] Body)
    {
        private const int MaxShown = 300;

        /// <summary>The body for error messages, shortened.</summary>
        public string Text
        {
            get
            {
                var text = Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, MaxShown)).Trim();
                return Body.Length > MaxShown ? text + "..." : text;
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "Consul at {Address}: {Method} /{Path} failed (attempt {Attempt} of {Attempts}): {Failure}; retrying in {Delay}")]
    private static partial void LogRetrying(ILogger logger, string address, string method, string path, int attempt, int attempts, string failure, TimeSpan delay);

    [LoggerMessage(2, LogLevel.Error, "Consul at {Address} is unreachable: {Method} /{Path} failed {Attempts} times, last: {Failure}")]
    private static partial void LogUnreachable(ILogger logger, string address, string method, string path, int attempts, string failure);

    [LoggerMessage(3, LogLevel.Error, "Consul at {Address} may or may not have applied {Method} /{Path} ({Failure}); a conditional write is never repeated blindly")]
    private static partial void LogOutcomeUnknown(ILogger logger, string address, string method, string path, string failure);

    [LoggerMessage(4, LogLevel.Error, "Consul at {Address} refused {Method} /{Path}: {Detail}; check setting Clustering:Consul:Token")]
    private static partial void LogAccessDenied(ILogger logger, string address, string method, string path, string detail);
}
