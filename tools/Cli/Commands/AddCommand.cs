using System.CommandLine;
using Voting.Cli.Installing;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary><c>./voting add worker|frontend</c>: one more worker silo, or one more front end with its own Redis.</summary>
internal static class AddCommand
{
    public static Command Create()
    {
        var what = new Argument<string>("what") { Description = "worker: one more worker silo (drainers spread over the workers); frontend: one more web front end with its own Redis (it registers itself; a drainer starts)" };
        what.AcceptOnlyFromAmong("worker", "frontend");
        var command = new Command("add", "start one more worker silo or web front end; it joins the running system") { what };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(what)!));
        return command;
    }

    private static async Task<int> RunAsync(string what)
    {
        var output = Console.Out;
        var system = new LocalSystem(LocalSettings.FromEnvironment(), output);
        if (!system.IsDatabaseRunning)
        {
            throw new CliException("nothing runs: start with ./voting up");
        }

        await DebianPackages.EnsureAsync(output, Requirement.Servers);
        if (what == "worker")
        {
            var index = system.NextIndex(ComponentKind.Worker);
            var worker = system.StartWorker(index);
            await Waiting.UntilReadyAsync([worker]);
            output.WriteLine($"{worker.Process.Name} is up: {worker.ManagementAddress}dashboard/");
        }
        else
        {
            var index = system.NextIndex(ComponentKind.Frontend);
            var frontend = await system.StartFrontendAsync(index);
            await Waiting.UntilReadyAsync([frontend]);
            var redis = system.Find(ComponentRecord.NameOf(ComponentKind.Redis, index))!;
            output.WriteLine($"{frontend.Process.Name} is up: {frontend.BaseAddress} (Redis 127.0.0.1:{redis.Port})");
        }

        return 0;
    }
}
