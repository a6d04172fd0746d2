namespace Voting.Grains;

/// <summary>
/// The front ends that exist. Each web front end registers itself at start-up and again periodically; the
/// registry keeps exactly one drainer running per front end.
/// </summary>
[Alias("Voting.IFrontendRegistryGrain")]
public interface IFrontendRegistryGrain : IGrainWithIntegerKey
{
    /// <summary>Adds or updates a front end and makes sure its drainer runs.</summary>
    [Alias("Register")]
    Task RegisterAsync(FrontendInfo frontend);

    [Alias("GetFrontends")]
    Task<FrontendInfo[]> GetFrontendsAsync();

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

/// <summary>A front end and where its vote stream lives.</summary>
/// <param name="FrontendId">The front end's id, e.g. <c>frontend01</c>.</param>
/// <param name="RedisEndpoint">The front end's Redis, as the worker tier reaches it (<c>host:port</c>).</param>
/// <param name="StreamKey">The Redis stream the front end appends votes to.</param>
[GenerateSerializer, Immutable, Alias("Voting.FrontendInfo")]
public sealed record FrontendInfo(
    [property: Id(0)] string FrontendId,
    [property: Id(1)] string RedisEndpoint,
    [property: Id(2)] string StreamKey);
