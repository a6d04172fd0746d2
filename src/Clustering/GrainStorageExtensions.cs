using Microsoft.Extensions.Configuration;
using Voting.Clustering.AdoNet;

namespace Voting.Clustering;

public static class GrainStorageExtensions
{
    /// <summary>
    /// Adds the grain storage provider <paramref name="name"/> where the cluster keeps its state: PostgreSQL unless
    /// the cluster runs on <c>Localhost</c> clustering, where state lives as long as the silos.
    /// </summary>
    public static ISiloBuilder AddVotingGrainStorage(this ISiloBuilder silo, IConfiguration configuration, string name)
    {
        var options = ClusteringSettings.Read(configuration);
        return options.Provider == ClusteringProvider.Localhost
            ? silo.AddMemoryGrainStorage(name)
            : silo.AddPostgresGrainStorage(name, options.ConnectionString!);
    }
}
