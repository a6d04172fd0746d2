using System.CommandLine;
using System.Globalization;
using Voting.Cli.Local;
using Voting.Local.Applications;

namespace Voting.Cli.Commands;

/// <summary><c>./voting status</c>: each process, whether it runs, and what its readiness check answers.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "show what runs and whether it is ready");
        command.SetAction(async (_, _) =>
        {
            var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
            var components = system.Components();
            var readiness = await Task.WhenAll(components.Select(c => c.IsApplication && c.Process.IsAlive() ? Readiness.StatusAsync(c.Url) : Task.FromResult<int?>(null)));
            for (var i = 0; i < components.Count; i++)
            {
                var component = components[i];
                var state = component.Process.IsAlive() ? $"running (pid {component.Process.Pid})" : "stopped";
                if (component.IsApplication && component.Process.IsAlive())
                {
                    state += ", ready: " + (readiness[i]?.ToString(CultureInfo.InvariantCulture) ?? "000");
                }

                Console.Out.WriteLine($"  {component.Name,-11} {state}");
            }

            return 0;
        });
        return command;
    }
}
