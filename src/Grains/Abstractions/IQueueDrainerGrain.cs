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
}

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
