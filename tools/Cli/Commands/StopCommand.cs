using System.CommandLine;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary><c>./voting stop NAME</c>: stops one process (a front end before it is retired, say).</summary>
internal static class StopCommand
{
    public static Command Create()
    {
        var name = Components.NameArgument("the process: workerNN, frontendNN (its Redis keeps running, so its votes still drain), redisNN, results, balancer or postgres");
        var command = new Command("stop", "stop one process ./voting started; ./voting start NAME starts it again") { name };
        command.SetAction(async (parse, _) =>
        {
            var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
            var target = parse.GetValue(name)!;
            if (!system.IsRunning(target))
            {
                throw new CliException($"{target} does not run.");
            }

            Console.Out.WriteLine($"Stopping {target}...");
            await system.StopAsync(target);
            Console.Out.WriteLine($"{target} stopped.");
            return 0;
        });
        return command;
    }
}
