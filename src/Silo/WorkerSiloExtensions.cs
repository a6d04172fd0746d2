using Voting.Grains;
using Voting.Grains.Registry;
using Voting.ServiceDefaults.Clustering;

namespace Voting.Silo;

public static class WorkerSiloExtensions
{
    /// <summary>Hosts a worker silo: the registry, drainer and voter-identity grains, and the dashboard's data.</summary>
    public static IHostApplicationBuilder AddVotingWorkerSilo(this IHostApplicationBuilder builder)
    {
        builder.Services.AddVotingWorkerGrains();
        builder.UseOrleans(silo =>
        {
            silo.UseVotingCluster(builder.Configuration, SiloRole.Worker);
            silo.AddVotingGrainStorage(builder.Configuration, RegistryOptions.StorageName);
        });
        return builder;
    }
}
