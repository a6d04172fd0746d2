using System.CommandLine;
using System.Globalization;
using Voting.Cli.Local;
using Voting.Local.Applications;

namespace Voting.Cli.Commands;

/// <summary><c>./voting status</c>: each process, whether it runs, what its readiness check answers and where its management port is.</summary>
internal static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "show what runs and whether it is ready");
        command.SetAction(async (_, _) =>
        {
            var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
            var components = system.Components();
            var roles = system.HighAvailability ? await RolesAsync(system) : new Dictionary<string, string>();
            var readiness = await Task.WhenAll(components.Select(c => c.IsApplication && c.Process.IsAlive() ? Readiness.StatusAsync(c.Url) : Task.FromResult<int?>(null)));
            for (var i = 0; i < components.Count; i++)
            {
                var component = components[i];
                var state = component.Process.IsAlive() ? $"running (pid {component.Process.Pid})" : "stopped";
                if (component.IsApplication && component.Process.IsAlive())
                {
                    state += ", ready: " + (readiness[i]?.ToString(CultureInfo.InvariantCulture) ?? "000");
                    if (component.ManagementUrl is { } management)
                    {
                        // Where its dashboard, metrics and health details answer, with the token in management.token.
                        state += ", management: " + management;
                    }
                }

                if (roles.TryGetValue(component.Name, out var role) && component.Process.IsAlive())
                {
                    state += ", " + role;
                }

                Console.Out.WriteLine($"  {component.Name,-11} {state}");
            }

            return 0;
        });
        return command;
    }

    /// <summary>What the pg_auto_failover monitor says each node of the formation is (<c>primary</c>, <c>secondary</c>, ...).</summary>
    private static async Task<Dictionary<string, string>> RolesAsync(LocalSystem system)
    {
        try
        {
            return (await system.Formation().StatesAsync()).ToDictionary(s => s.Name, s => s.ReportedState == s.GoalState
                ? s.ReportedState
                : $"{s.ReportedState} → {s.GoalState}", StringComparer.Ordinal);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or System.Net.Sockets.SocketException)
        {
            return new() { [ComponentRecord.MonitorName] = "not answering" };
        }
    }
}
