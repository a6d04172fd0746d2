using Orleans.Dashboard;
using Voting.Clustering;
using Voting.Grains;
using Voting.Grains.Registry;

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
            // Section Dashboard: e.g. Dashboard__CounterUpdateIntervalMs, how often the dashboard samples every counter.
            silo.AddDashboard(dashboard => builder.Configuration.GetSection("Dashboard").Bind(dashboard));
        });
        return builder;
    }
}
