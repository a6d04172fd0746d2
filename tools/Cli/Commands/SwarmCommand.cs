using System.CommandLine;
using Voting.Cli.Local;
using Voting.Cli.Swarm;

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

        return new Command("swarm", "the tutorial's cluster as real Swarm nodes on this machine (deploy/swarm/README.md)") { up, down, status, add, build };
    }

    private static SwarmSystem Open() => new(LocalSettings.FromEnvironment().Data, Console.Out);
}
