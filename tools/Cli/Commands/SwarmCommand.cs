using System.CommandLine;
using System.Diagnostics;
using Voting.Cli.Installing;
using Voting.Cli.Local;
using Voting.Cli.Swarm;
using Voting.Local;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting swarm up|down|status|add frontend|build</c>: the tutorial's cluster on this machine — its nodes as
/// Docker-in-Docker containers, one real Swarm, <c>deploy/swarm/stack.yml</c> deployed on it.
/// </summary>
internal static class SwarmCommand
{
    public static Command Create()
    {
        var up = new Command("up",
            "start Docker if needed, build the images, create the nodes (manager, interlock, frontend01, frontend02, worker01, store) as " +
            "Docker-in-Docker containers, join them into one Swarm, label them, deploy deploy/swarm/stack.yml and print the URLs once it answers");
        up.SetAction(async (_, _) =>
        {
            var swarm = Open();
            swarm.Describe(await swarm.UpAsync());
            return 0;
        });

        var purge = new Option<bool>("--purge") { Description = "remove the images too (voting/*), which swarm up otherwise reuses as its build cache" };
        var down = new Command("down", "remove the nodes, their volumes and network, and stop the Docker engine if swarm up started it") { purge };
        down.SetAction(async (parse, _) =>
        {
            await Open().DownAsync(parse.GetValue(purge));
            Console.Out.WriteLine("Removed.");
            return 0;
        });

        var status = new Command("status", "the Swarm's nodes, services and tasks, and whether the published addresses answer ready");
        status.SetAction(async (_, _) =>
        {
            await Open().StatusAsync();
            return 0;
        });

        var what = new Argument<string>("what") { Description = "frontend: one more front-end node, labelled voting.frontend: its web front end and Redis start on it" };
        what.AcceptOnlyFromAmong("frontend");
        var add = new Command("add", "add a node to the Swarm") { what };
        add.SetAction(async (_, _) =>
        {
            var swarm = Open();
            var node = await swarm.AddFrontendAsync();
            Console.Out.WriteLine($"{node.Name} joined the Swarm; its front end takes votes through {(await swarm.EndpointsAsync()).Vote}");
            return 0;
        });

        var build = new Command("build", "build the images deploy/swarm/stack.yml runs, from Debian's packages and this build (no registry)");
        build.SetAction(async (_, _) =>
        {
            var swarm = Open();
            await swarm.Engine.EnsureRunningAsync();
            await swarm.Images.BuildAsync();
            return 0;
        });

        var faults = new Option<string[]>("--fault")
        {
            Description = "only this failure (repeatable): " + string.Join(", ", SwarmFault.Names) + "; all of them, in that order, when left out",
        };
        faults.AcceptOnlyFromAmong([.. SwarmFault.Names]);
        var chaos = new Command("chaos",
            "the tutorial's troubleshooting list on the Swarm: the load tool votes through the balancer while each failure is caused, held " +
            $"{SwarmChaos.Hold.TotalSeconds:F0} s and ended, a vote is taken during each; then the audit of every acknowledged vote. Other options are the load tool's")
        {
            faults,
        };
        chaos.TreatUnmatchedTokensAsErrors = false;
        chaos.SetAction(async (parse, _) =>
        {
            var parsed = LoadGen.LoadArguments.Parse([.. SwarmChaos.LoadDefaults, .. parse.UnmatchedTokens]);
            if (parsed.Options is not { } load)
            {
                await Console.Error.WriteLineAsync("voting: " + (parsed.Error ?? "the load tool's options (see tools/LoadGen/README.md)"));
                return VotingCommandLine.Misused;
            }

            var chosen = parse.GetValue(faults) is { Length: > 0 } names ? SwarmFault.All.Where(f => names.Contains(f.Name)).ToArray() : SwarmFault.All;
            return await new SwarmChaos(Open(), Console.Out).RunAsync(chosen, load);
        });

        var bench = new Command("bench",
            "votes/s through the Swarm's published balancer port, the drain rate and the results API's latency, beside the same of ./voting up's " +
            "processes on this machine in the same run (bench/swarm.sh; it starts ./voting up's system if none runs, and stops it after)");
        bench.SetAction((_, _) => BenchAsync());

        return new Command("swarm", "the tutorial's cluster as real Swarm nodes on this machine (deploy/swarm/README.md)") { up, down, status, add, build, chaos, bench };
    }

    private static async Task<int> BenchAsync()
    {
        var endpoints = await Open().EndpointsAsync();
        await DebianPackages.EnsureAsync(Console.Out, Requirement.Wrk, Requirement.Jq, Requirement.Curl);
        var local = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
        var started = !local.IsRunning("balancer");
        if (started)
        {
            Console.Out.WriteLine("Starting ./voting up's system beside the Swarm...");
            await DebianPackages.EnsureAsync(Console.Out, Requirement.Servers);
            await UpCommand.StartAsync(local, CancellationToken.None);
        }

        try
        {
            var info = new ProcessStartInfo(Path.Combine(Repository.Root, "bench", "swarm.sh")) { UseShellExecute = false };
            static string Base(Uri url) => url.GetLeftPart(UriPartial.Authority);
            info.Environment["SWARM_VOTE"] = Base(endpoints.Vote);
            info.Environment["SWARM_RESULTS"] = Base(endpoints.Results);
            info.Environment["SWARM_WORKER"] = Base(endpoints.Dashboard ?? throw new CliException("no worker of the Swarm answers on its management port: ./voting swarm status"));
            info.Environment["SWARM_TOKEN"] = endpoints.ManagementToken;
            info.Environment["LOCAL_VOTE"] = Base(local.Find("balancer")!.Url);
            info.Environment["LOCAL_RESULTS"] = Base(local.Find("results")!.Url);
            info.Environment["LOCAL_WORKER"] = Base(local.Find("worker01")!.ManagementUrl!);
            info.Environment["LOCAL_TOKEN"] = local.ManagementToken();
            using var script = Process.Start(info) ?? throw new CliException("bench/swarm.sh did not start");
            await script.WaitForExitAsync();
            return script.ExitCode;
        }
        finally
        {
            if (started)
            {
                await DownCommand.DownAsync(local, Console.Out);
            }
        }
    }

    private static SwarmSystem Open() => new(LocalSettings.FromEnvironment().Data, Console.Out);
}
