namespace Voting.Clustering;

/// <summary>What a silo is for. Worker silos host the drainer and voter-identity grains; web silos only accept votes.</summary>
public enum SiloRole
{
    Worker,
    Web,
}
