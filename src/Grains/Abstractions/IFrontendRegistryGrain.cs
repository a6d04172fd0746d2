namespace Voting.Grains;

/// <summary>
/// The front ends that exist. Each web front end registers itself at start-up and again periodically; the
/// registry keeps exactly one drainer running per front end.
/// </summary>
[Alias("Voting.IFrontendRegistryGrain")]
public interface IFrontendRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// Adds or updates a front end and makes sure its drainer runs. Throws <see cref="FrontendRegistrationRefusedException"/>
    /// for a front end that claims another Redis endpoint or stream than the one it is registered with (retire it
    /// first), or the stream another front end is registered with.
    /// </summary>
    [Alias("Register")]
    Task RegisterAsync(FrontendInfo frontend);

    [Alias("GetFrontends")]
    Task<FrontendInfo[]> GetFrontendsAsync();

    /// <summary>
    /// Forgets a front end that is gone for good, once every vote in its stream is committed: its drainer stops and
    /// is not revived. A front end that still runs registers itself again within its registration interval.
    /// <paramref name="force"/> retires it even with votes waiting or its Redis unreachable; those votes are never counted.
    /// </summary>
    [Alias("Retire")]
    Task<FrontendRetirement> RetireAsync(string frontendId, bool force);

    /// <summary>Makes sure every registered front end's drainer runs (after a silo died, for instance).</summary>
    [Alias("ReviveDrainers")]
    Task ReviveDrainersAsync();
}

public static class FrontendRegistry
{
    /// <summary>The registry is a singleton grain.</summary>
    public static IFrontendRegistryGrain GetFrontendRegistry(this IGrainFactory grains) =>
        grains.GetGrain<IFrontendRegistryGrain>(0);
}

/// <summary>What became of a request to retire a front end.</summary>
public enum RetirementOutcome
{
    /// <summary>The front end is forgotten and its drainer stopped.</summary>
    Retired,

    /// <summary>No front end with that id is registered.</summary>
    NotRegistered,

    /// <summary>Votes still wait in the front end's stream; nothing changed.</summary>
    VotesWaiting,

    /// <summary>The front end's Redis cannot be read, so whether votes wait is unknown; nothing changed.</summary>
    RedisUnreachable,

    /// <summary>The front end registered itself recently: it still runs, and would register again; nothing changed.</summary>
    StillRunning,
}

/// <param name="Outcome">What happened.</param>
/// <param name="Detail">A sentence for an operator: why, and what to do next.</param>
/// <param name="Waiting">Votes waiting in the stream when it was read (-1: not read).</param>
[GenerateSerializer, Immutable, Alias("Voting.FrontendRetirement")]
public sealed record FrontendRetirement(
    [property: Id(0)] RetirementOutcome Outcome,
    [property: Id(1)] string Detail,
    [property: Id(2)] long Waiting);

/// <summary>A front end and where its vote stream lives.</summary>
/// <param name="FrontendId">The front end's id, e.g. <c>frontend01</c>.</param>
/// <param name="RedisEndpoint">The front end's Redis, as the worker tier reaches it (<c>host:port</c>).</param>
/// <param name="StreamKey">The Redis stream the front end appends votes to.</param>
/// <param name="HttpEndpoint">
/// Where a load balancer reaches the front end's vote page and API (<c>http://host:port/</c>); null for a front end
/// that registered before front ends announced it, which balancers leave out until it registers again.
/// </param>
[GenerateSerializer, Immutable, Alias("Voting.FrontendInfo")]
public sealed record FrontendInfo(
    [property: Id(0)] string FrontendId,
    [property: Id(1)] string RedisEndpoint,
    [property: Id(2)] string StreamKey,
    [property: Id(3)] string? HttpEndpoint = null);

/// <summary>
/// The registry refused a registration that would leave votes undrained: a front end that claims another Redis
/// endpoint or stream than the one it is registered with, or the stream another front end has.
/// </summary>
[GenerateSerializer, Alias("Voting.FrontendRegistrationRefusedException")]
public sealed class FrontendRegistrationRefusedException : Exception
{
    public FrontendRegistrationRefusedException()
    {
    }

    public FrontendRegistrationRefusedException(string message)
        : base(message)
    {
    }

    public FrontendRegistrationRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
