using System.CommandLine;
using Voting.Cli.Installing;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary><c>./voting start NAME</c>: starts one process again, with the ports it had.</summary>
internal static class StartCommand
{
    public static Command Create()
    {
        var name = Components.NameArgument("the process: workerNN, frontendNN (and its Redis), redisNN, results, balancer, postgres (or pgmonitor, postgres01, postgres02)");
        var command = new Command("start", "start one process again (after ./voting stop, or a crash), with the ports it had") { name };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
            var target = parse.GetValue(name)!;
            if (!system.DatabaseNames.Contains(target) && !system.IsDatabaseRunning)
            {
                throw new CliException("nothing runs: start with ./voting up");
            }

            await DebianPackages.EnsureAsync(Console.Out, Requirement.Servers);
            if (await system.StartAsync(target) is { } app)
            {
                await Waiting.UntilReadyAsync([app], cancellationToken);
            }

            Console.Out.WriteLine($"{target} runs.");
            return 0;
        });
        return command;
    }
}
