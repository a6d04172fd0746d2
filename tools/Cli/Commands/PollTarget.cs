using System.CommandLine;
using Voting.Cli.Local;
using Voting.Cli.Swarm;

namespace Voting.Cli.Commands;

/// <summary>
/// Where <c>./voting poll</c> sends the operators' commands: a worker silo's management port and the token it
/// requires — of the local system (<c>./voting up</c>), or with <c>--swarm</c> of <c>./voting swarm up</c>'s, through
/// the management tunnel on node interlock that leads to the workers' unpublished port.
/// </summary>
internal sealed record PollTarget(string Name, Uri Management, string Token)
{
    /// <summary><c>--swarm</c>, on <c>poll</c> and each of its commands.</summary>
    public static readonly Option<bool> SwarmOption = new("--swarm")
    {
        Description = "the poll of ./voting swarm up's system (through its management tunnel), not of ./voting up's",
        Recursive = true,
    };

    public HttpClient Client(TimeSpan timeout) => Voting.Local.Applications.ManagementToken.Client(Token, timeout);

    public static async Task<PollTarget> ResolveAsync(bool swarm)
    {
        if (swarm)
        {
            var endpoints = await new SwarmSystem(LocalSettings.FromEnvironment().Data, Console.Out).EndpointsAsync();
            return new PollTarget("the Swarm's worker silos", endpoints.WorkerManagement, endpoints.ManagementToken);
        }

        var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
        var (worker, management) = RunningWorker(system);
        return new PollTarget(worker, management, system.ManagementToken());
    }

    /// <summary>A running worker silo of the local system, and its management port's URL: where the poll is asked.</summary>
    private static (string Name, Uri Management) RunningWorker(LocalSystem system)
    {
        var worker = system.Components().FirstOrDefault(c => c.Kind is ComponentKind.Worker && c.Process.IsAlive())
            ?? throw new CliException("no worker silo runs: the poll lives in the worker tier");
        return (worker.Name, worker.ManagementUrl
            ?? throw new CliException($"{worker.Name} was started without a management port: ./voting stop {worker.Name} and start it again"));
    }
}
