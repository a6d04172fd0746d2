using System.Collections.Frozen;

namespace Voting.LoadGen.Measuring;

/// <summary>Why a request got no usable answer.</summary>
public enum RequestError
{
    /// <summary>No answer within the request timeout: the vote may or may not have been recorded.</summary>
    Timeout,

    /// <summary>The front end refused the connection: nothing was sent, the vote was certainly not recorded.</summary>
    ConnectionRefused,

    /// <summary>The connection failed after the request may have been sent (reset, closed early).</summary>
    ConnectionFailed,

    /// <summary>A 2xx answer that does not confirm the vote (no receipt, or a page without the choice marked).</summary>
    Unconfirmed,

    /// <summary>A status that is neither a success nor a refusal (1xx, 3xx).</summary>
    UnexpectedStatus,
}

/// <summary>What the voters did and got, counted from many threads at once.</summary>
public sealed class LoadCounters
{
    private static readonly RequestError[] ErrorKinds = Enum.GetValues<RequestError>();

    private readonly long[] _refusedByStatus = new long[600];
    private readonly long[] _errors = new long[ErrorKinds.Length];
    private long _sent;
    private long _acknowledged;
    private long _pages;
    private long _pagesFailed;
    private long _unavailableWithoutRetryAfter;
    private long _limitedWithoutRetryAfter;
    private long _pagesLimited;

    /// <summary>Votes sent (each request, a double submission counts twice).</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Votes answered with a 2xx that confirms them.</summary>
    public long Acknowledged => Volatile.Read(ref _acknowledged);

    /// <summary>Votes answered with 4xx or 5xx.</summary>
    public long Refused
    {
        get
        {
            long total = 0;
            for (var status = 0; status < _refusedByStatus.Length; status++)
            {
                total += Volatile.Read(ref _refusedByStatus[status]);
            }

            return total;
        }
    }

    /// <summary>Votes without a usable answer.</summary>
    public long Errors
    {
        get
        {
            long total = 0;
            for (var kind = 0; kind < _errors.Length; kind++)
            {
                total += Volatile.Read(ref _errors[kind]);
            }

            return total;
        }
    }

    /// <summary>Votes that got an answer or gave up: sent minus in flight.</summary>
    public long Completed => Acknowledged + Refused + Errors;

    /// <summary>Votes answered 503 without a <c>Retry-After</c>: invariant 4 wants one on every 503.</summary>
    public long UnavailableWithoutRetryAfter => Volatile.Read(ref _unavailableWithoutRetryAfter);

    /// <summary>Pages and votes answered 429 without a <c>Retry-After</c>: every rate-limited answer should say when to retry.</summary>
    public long LimitedWithoutRetryAfter => Volatile.Read(ref _limitedWithoutRetryAfter);

    /// <summary>Vote pages answered 429: the front end issued no identity (too many new voters from the address).</summary>
    public long PagesLimited => Volatile.Read(ref _pagesLimited);

    /// <summary>Vote pages (<c>GET /</c>) that issued a voter cookie.</summary>
    public long Pages => Volatile.Read(ref _pages);

    /// <summary>Vote pages that failed: the voter never voted.</summary>
    public long PagesFailed => Volatile.Read(ref _pagesFailed);

    public void OnSent() => Interlocked.Increment(ref _sent);

    public void OnAcknowledged() => Interlocked.Increment(ref _acknowledged);

    public void OnRefused(int status) => Interlocked.Increment(ref _refusedByStatus[Math.Clamp(status, 0, _refusedByStatus.Length - 1)]);

    public void OnUnavailableWithoutRetryAfter() => Interlocked.Increment(ref _unavailableWithoutRetryAfter);

    public void OnLimitedWithoutRetryAfter() => Interlocked.Increment(ref _limitedWithoutRetryAfter);

    /// <summary>A vote page answered 429 (counted among the failed pages too).</summary>
    public void OnPageLimited(bool withRetryAfter)
    {
        Interlocked.Increment(ref _pagesLimited);
        Interlocked.Increment(ref _pagesFailed);
        if (!withRetryAfter)
        {
            Interlocked.Increment(ref _limitedWithoutRetryAfter);
        }
    }

    public void OnError(RequestError error) => Interlocked.Increment(ref _errors[(int)error]);

    public void OnPage(bool succeeded) => Interlocked.Increment(ref succeeded ? ref _pages : ref _pagesFailed);

    /// <summary>Refused votes by HTTP status, only the statuses that occurred.</summary>
    public FrozenDictionary<int, long> RefusedByStatus()
    {
        var refused = new Dictionary<int, long>();
        for (var status = 0; status < _refusedByStatus.Length; status++)
        {
            if (Volatile.Read(ref _refusedByStatus[status]) is > 0 and var count)
            {
                refused[status] = count;
            }
        }

        return refused.ToFrozenDictionary();
    }

    /// <summary>Votes without a usable answer, by reason, only the reasons that occurred.</summary>
    public FrozenDictionary<RequestError, long> ErrorsByKind()
    {
        var errors = new Dictionary<RequestError, long>();
        foreach (var kind in ErrorKinds)
        {
            if (Volatile.Read(ref _errors[(int)kind]) is > 0 and var count)
            {
                errors[kind] = count;
            }
        }

        return errors.ToFrozenDictionary();
    }
}
