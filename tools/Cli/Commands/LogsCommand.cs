using System.CommandLine;
using System.Diagnostics;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary><c>./voting logs [NAME]</c>: follows one process's log, or all of them.</summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var name = new Argument<string?>("name") { Description = "postgres, redis01, worker01, frontend01, results, balancer, ... (all when left out)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("logs", "follow the logs") { name };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
            var logs = Directory.GetFiles(system.Settings.Logs, "*.log").Order(StringComparer.Ordinal).ToArray();
            string[] arguments;
            if (parse.GetValue(name) is { } one)
            {
                var log = system.LogPath(one);
                if (!File.Exists(log))
                {
                    throw new CliException($"there is no log for {one}; the logs are: {string.Join(", ", logs.Select(Path.GetFileNameWithoutExtension))}");
                }

                arguments = ["-n", "50", "-F", log];
            }
            else
            {
                arguments = logs.Length > 0 ? ["-n", "20", "-F", .. logs] : throw new CliException($"no logs yet in {system.Settings.Logs}");
            }

            // tail follows until Ctrl-C, which reaches it too: it shares this terminal's process group.
            using var tail = Process.Start("tail", arguments) ?? throw new CliException("tail did not start");
            await tail.WaitForExitAsync(cancellationToken);
            return tail.ExitCode;
        });
        return command;
    }
}
