namespace Voting.Grains;

/// <summary>
/// Drains one front end's vote stream into PostgreSQL: read a batch through the consumer group, judge it with the
/// voter-identity shards, commit it in one transaction, acknowledge it. Keyed by the front-end id.
/// </summary>
[Alias("Voting.IQueueDrainerGrain")]
public interface IQueueDrainerGrain : IGrainWithStringKey
{
    /// <summary>Starts draining (or keeps draining) the given front end's stream. Idempotent.</summary>
    [Alias("EnsureRunning")]
    Task EnsureRunningAsync(FrontendInfo frontend);

    [Alias("GetStatus")]
    Task<DrainerStatus> GetStatusAsync();

    /// <summary>
    /// How many of <paramref name="frontend"/>'s votes are not yet committed, read from its Redis now (not the last
    /// measurement <see cref="GetStatusAsync"/> reports): what a seal of the count waits on. A commit in flight shows
    /// as pending; a Redis that cannot be read gives -1 and the reason.
    /// </summary>
    [Alias("ReadBacklog")]
    Task<DrainerBacklog> ReadBacklogAsync(FrontendInfo frontend);

    /// <summary>
    /// Stops draining for good if nothing waits in <paramref name="frontend"/>'s stream (given by the registry, so that
    /// a drainer activated by this very call reads the right stream): the backlog is read from Redis now, and any vote
    /// waiting or pending keeps the drainer running. <paramref name="force"/> stops it anyway (waiting votes are
    /// abandoned in Redis, never counted). Returns whether it stopped and the backlog it saw; a Redis that cannot be
    /// read keeps the drainer running unless forced.
    /// </summary>
    [Alias("Retire")]
    Task<DrainerRetirement> RetireAsync(FrontendInfo frontend, bool force);
}

/// <summary>The outcome of <see cref="IQueueDrainerGrain.ReadBacklogAsync"/>.</summary>
/// <param name="FrontendId">The front end whose stream was read.</param>
/// <param name="Waiting">Votes in the stream not yet committed (-1: Redis could not be read).</param>
/// <param name="Pending">Of those, votes delivered to a drainer and not yet acknowledged (-1: not read).</param>
/// <param name="Problem">Why Redis could not be read, if it could not.</param>
[GenerateSerializer, Immutable, Alias("Voting.DrainerBacklog")]
public sealed record DrainerBacklog(
    [property: Id(0)] string FrontendId,
    [property: Id(1)] long Waiting,
    [property: Id(2)] long Pending,
    [property: Id(3)] string? Problem)
{
    /// <summary>Every vote the stream held when it was read is committed.</summary>
    public bool IsDrained => Waiting == 0 && Pending == 0 && Problem is null;
}

/// <summary>The outcome of <see cref="IQueueDrainerGrain.RetireAsync"/>.</summary>
/// <param name="Stopped">The drainer stopped and will not start again unless the front end registers again.</param>
/// <param name="Waiting">Votes in the stream not yet committed, as read at the time (-1: Redis could not be read).</param>
/// <param name="Pending">Of those, votes delivered to a drainer and not yet acknowledged (-1: not read).</param>
/// <param name="Problem">Why Redis could not be read, if it could not.</param>
[GenerateSerializer, Immutable, Alias("Voting.DrainerRetirement")]
public sealed record DrainerRetirement(
    [property: Id(0)] bool Stopped,
    [property: Id(1)] long Waiting,
    [property: Id(2)] long Pending,
    [property: Id(3)] string? Problem);

/// <summary>
/// What a drainer has done since its activation (on <see cref="Silo"/>, at <see cref="ActivatedAt"/>), and how far
/// behind its front end's stream it is, as of <see cref="BacklogReadAt"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("Voting.DrainerStatus")]
public sealed record DrainerStatus(
    [property: Id(0)] string FrontendId,
    [property: Id(1)] string Silo,
    [property: Id(2)] long EntriesRead,
    [property: Id(3)] long VotesWritten,
    [property: Id(4)] long BatchesCommitted,
    [property: Id(5)] DateTimeOffset? LastCommitAt,
    [property: Id(6)] string? LastError,
    [property: Id(7)] DateTimeOffset ActivatedAt,
    [property: Id(8)] DateTimeOffset? FirstCommitAt,
    [property: Id(9)] long Backlog,
    [property: Id(10)] long Pending,
    [property: Id(11)] DateTimeOffset? OldestWaitingSince,
    [property: Id(12)] double DrainRate,
    [property: Id(13)] DateTimeOffset? BacklogReadAt);
