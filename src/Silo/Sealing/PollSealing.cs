using Voting.Grains;
using Voting.Sealing;
using Voting.Sealing.Postgres;
using Voting.ServiceDefaults.Voting;

namespace Voting.Silo.Sealing;

/// <summary>
/// Seals the poll's count once it is closed and every front end's stream is drained — verified by reading each
/// stream's backlog from its Redis at the time, never assumed from a last measurement — and keeps the seal: the
/// <see cref="Sealer"/> makes it once, in PostgreSQL, and every later call returns that one.
/// </summary>
public sealed class PollSealing(IGrainFactory grains, PollOptions poll, SealingOptions options, BallotOptions ballot, TimeProvider time, Sealer? sealer = null)
    : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _one = new(1, 1);
    private Seal? _seal;

    /// <summary>Seals the count if it may be sealed now, or says why not.</summary>
    public async Task<SealAttempt> SealAsync(CancellationToken cancellationToken)
    {
        if (sealer is null)
        {
            return SealAttempt.Refused(
                "This worker cannot seal: sealing is not configured (set Poll:SigningKeyPath and Poll:PseudonymKey, both secrets).");
        }

        if (_seal is { } kept)
        {
            return SealAttempt.Done(kept);
        }

        await _one.WaitAsync(cancellationToken);
        try
        {
            return _seal is { } sealedMeanwhile ? SealAttempt.Done(sealedMeanwhile) : await SealOnceAsync(sealer, cancellationToken);
        }
        finally
        {
            _one.Release();
        }
    }

    public void Dispose() => _one.Dispose();

    /// <summary>The poll's seal, or null when it is not sealed (or sealing is not configured here).</summary>
    public async Task<Seal?> FindAsync(CancellationToken cancellationToken)
    {
        if (_seal is null && sealer is not null && await sealer.FindAsync(poll.Id, cancellationToken) is { } found)
        {
            _seal = found;
        }

        return _seal;
    }

    private async Task<SealAttempt> SealOnceAsync(Sealer sealer, CancellationToken cancellationToken)
    {
        // Sealed already, by this worker before a restart or by another one: that seal stands, whatever came since.
        if (await FindAsync(cancellationToken) is { } existing)
        {
            return SealAttempt.Done(existing);
        }

        PollStatus status;
        try
        {
            status = await grains.GetPoll().GetStatusAsync().WaitAsync(Timeout, cancellationToken);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return SealAttempt.Wait("The poll cannot be asked right now: " + e.Message, TimeSpan.FromSeconds(1));
        }

        var now = time.GetUtcNow();
        if (status.Schedule.ClosesAt is not { } closesAt || status.Phase is PollPhase.Scheduled or PollPhase.Open)
        {
            return SealAttempt.Refused($"The poll is {Phase(status.Phase)}: only a closed poll is sealed (./voting poll close first).");
        }

        var settled = closesAt + options.SealGrace;
        if (now < settled)
        {
            return SealAttempt.Wait(
                $"The poll closes at {closesAt:O}; votes acknowledged until then may still be entering their front end's stream " +
                $"until {settled:O}, when the drain can be verified.",
                settled - now);
        }

        var backlog = await ReadBacklogsAsync(cancellationToken);
        if (backlog.Problem is { } problem)
        {
            return SealAttempt.Wait(problem, TimeSpan.FromSeconds(1));
        }

        if (backlog.Backlogs.Where(b => !b.IsDrained).ToArray() is { Length: > 0 } waiting)
        {
            return SealAttempt.Wait(
                "Not every vote is counted yet: " + string.Join("; ", waiting.Select(Describe)) + ".",
                TimeSpan.FromSeconds(1));
        }

        var facts = new PollFacts(poll.Id, poll.Name, status.Schedule.OpensAt, closesAt, [.. ballot.All.Select(o => o.Key)]);
        _seal = await sealer.SealAsync(facts, cancellationToken);
        return SealAttempt.Done(_seal);
    }

    private async Task<(DrainerBacklog[] Backlogs, string? Problem)> ReadBacklogsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var frontends = await grains.GetFrontendRegistry().GetFrontendsAsync().WaitAsync(Timeout, cancellationToken);
            var backlogs = await Task.WhenAll(frontends.Select(f =>
                grains.GetGrain<IQueueDrainerGrain>(f.FrontendId).ReadBacklogAsync(f).WaitAsync(Timeout, cancellationToken)));
            return (backlogs, null);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException)
        {
            return ([], "The front ends' streams cannot be read right now, so the drain cannot be verified: " + e.Message);
        }
    }

    private static string Describe(DrainerBacklog backlog) =>
        backlog.Problem is { } problem
            ? $"{backlog.FrontendId}'s Redis cannot be read ({problem})"
            : $"{backlog.FrontendId} has {backlog.Waiting} votes not yet committed ({backlog.Pending} being committed)";

    private static string Phase(PollPhase phase) => phase switch
    {
        PollPhase.Scheduled => "not open yet",
        PollPhase.Open => "open",
        PollPhase.Closing => "closing",
        _ => "closed",
    };
}

/// <summary>The outcome of <see cref="PollSealing.SealAsync"/>: sealed, refused (nothing to wait for), or not yet.</summary>
public sealed record SealAttempt(Seal? Seal, string? Detail, TimeSpan? RetryAfter)
{
    public static SealAttempt Done(Seal seal) => new(seal, null, null);

    public static SealAttempt Refused(string detail) => new(null, detail, null);

    public static SealAttempt Wait(string detail, TimeSpan retryAfter) => new(null, detail, retryAfter);
}
