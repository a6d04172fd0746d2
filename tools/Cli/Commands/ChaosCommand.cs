using System.CommandLine;
using System.Globalization;
using System.Text;
using Voting.Cli.Local;
using Voting.Local.Servers;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting chaos [options]</c>: the long fault run. A load run goes on while a worker silo, a front end, its Redis
/// and PostgreSQL are killed and started again, one after the other; the load tool's audit ends it.
/// </summary>
internal static class ChaosCommand
{
    public static Command Create()
    {
        var command = new Command("chaos",
            "the long fault run: a load run (options as for load) while a worker silo, a front end, its Redis and PostgreSQL are killed " +
            "and started again, one after the other (with up --postgres-ha, the primary's node is killed and the standby takes over); ends with the audit");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, _) => RunAsync(parse.UnmatchedTokens));
        return command;
    }

    private static async Task<int> RunAsync(IReadOnlyList<string> options)
    {
        var output = Console.Out;
        var system = new LocalSystem(LocalSettings.FromEnvironment(), output);
        if (!system.IsRunning("worker01"))
        {
            throw new CliException("nothing runs: start with ./voting up");
        }

        if (!system.IsRunning("worker02"))
        {
            output.WriteLine("A second worker silo takes over when one is killed:");
            var worker = system.StartWorker(2);
            await Waiting.UntilReadyAsync([worker]);
            output.WriteLine($"{worker.Process.Name} is up: {worker.ManagementAddress}dashboard/");
        }

        if (!system.IsRunning("frontend02"))
        {
            throw new CliException("chaos needs frontend02 (VOTING_FRONTENDS=2 or more)");
        }

        var logPath = system.LogPath("chaos-load");
        var arguments = LoadCommand.Arguments(system, throughBalancer: false,
            ["--voters", "60000", "--rate", "400", "--duration", "10m", "--drain-timeout", "5m", "--progress", "5s", .. options]);
        output.WriteLine($"Load: ./voting load --voters 60000 --rate 400 {string.Join(' ', options)} (log: {logPath})");
        int status;
        await using (var log = new StreamWriter(logPath, append: false, Encoding.UTF8) { AutoFlush = true })
        {
            var writer = TextWriter.Synchronized(log);
            var load = Task.Run(() => LoadGen.LoadCommand.RunAsync(arguments, writer, writer));

            await Task.Delay(TimeSpan.FromSeconds(15));
            await KillAsync(system, "worker02", "");
            await Task.Delay(TimeSpan.FromSeconds(20));
            await StartAsync(system, "worker02");
            await Task.Delay(TimeSpan.FromSeconds(15));
            await KillAsync(system, "frontend02", " with requests in flight");
            await Task.Delay(TimeSpan.FromSeconds(5));
            await StartAsync(system, "frontend02");
            await Task.Delay(TimeSpan.FromSeconds(15));
            await KillAsync(system, "redis02", "; it restarts from its append-only file");
            await Task.Delay(TimeSpan.FromSeconds(5));
            await StartAsync(system, "redis02");
            await Task.Delay(TimeSpan.FromSeconds(15));
            if (system.HighAvailability)
            {
                var primary = PostgresHaCluster.NodeName(await system.PrimaryOrNullAsync() ?? 0);
                await KillAsync(system, primary, " (its node dies: keeper, PostgreSQL and backends); the standby takes over");
                await Task.Delay(TimeSpan.FromSeconds(30));
                await StartAsync(system, primary);
            }
            else
            {
                Step("stop PostgreSQL at once (immediate shutdown) for 20 s");
                await system.KillAsync("postgres");
                await Task.Delay(TimeSpan.FromSeconds(20));
                await StartAsync(system, "postgres");
            }
            Step("faults over; waiting for the load run and its audit");
            status = await load;
        }

        foreach (var line in File.ReadLines(logPath).TakeLast(25))
        {
            output.WriteLine(line);
        }

        return status;
    }

    private static async Task KillAsync(LocalSystem system, string name, string detail)
    {
        Step($"kill -9 {name} (pid {system.Find(name)?.Process.Pid}){detail}");
        await system.KillAsync(name);
    }

    private static async Task StartAsync(LocalSystem system, string name)
    {
        Step($"start {name} again");
        await system.StartAsync(name);
    }

    private static void Step(string text) => Console.Out.WriteLine($"{DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {text}");
}
