using Orleans.Dashboard;
using Voting.Clustering;
using Voting.Grains;
using Microsoft.Extensions.Options;
using Voting.Grains.Polling;
using Voting.Grains.Registry;
using Voting.ServiceDefaults.Voting;

namespace Voting.Silo;

public static class WorkerSiloExtensions
{
    /// <summary>Hosts a worker silo: the registry, drainer, voter-identity and poll grains, and the dashboard's data.</summary>
    public static IHostApplicationBuilder AddVotingWorkerSilo(this IHostApplicationBuilder builder)
    {
        builder.Services.AddVotingWorkerGrains();
        builder.Services.AddVotingPollOptions();
        builder.Services.AddSingleton(services =>
        {
            var poll = services.GetRequiredService<IOptions<PollOptions>>().Value;
            return new PollDefaults(new PollSchedule(poll.OpensAtTime, poll.ClosesAtTime, poll.Embargo, poll.ReleaseAtTime, poll.CloseNotice), poll.Managed);
        });
        builder.UseOrleans(silo =>
        {
            silo.UseVotingCluster(builder.Configuration, SiloRole.Worker);
            silo.AddVotingGrainStorage(builder.Configuration, RegistryOptions.StorageName);
            silo.AddVotingGrainStorage(builder.Configuration, PollDefaults.StorageName);
            // Section Dashboard: e.g. Dashboard__CounterUpdateIntervalMs, how often the dashboard samples every counter.
            silo.AddDashboard(dashboard => builder.Configuration.GetSection("Dashboard").Bind(dashboard));
        });
        return builder;
    }
}
