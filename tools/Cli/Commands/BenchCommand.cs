using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Voting.Cli.Installing;
using Voting.Cli.Local;
using Voting.Local;
using Voting.Local.Applications;

namespace Voting.Cli.Commands;

/// <summary><c>./voting bench accept|balancer|tls|drain [N]|results</c>: the benchmarks of docs/PERFORMANCE.md (bench/*.sh, around wrk).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var what = new Argument<string>("what") { Description = "accept: the accept path against a bare Kestrel + XADD; balancer: straight to a front end vs through the balancer; tls: through the balancer over HTTP vs through a second balancer over HTTPS; drain: N votes per front end appended to Redis, then drained by one new worker silo; results: results reads" };
        what.AcceptOnlyFromAmong("accept", "balancer", "tls", "drain", "results");
        var votes = new Argument<int?>("votes") { Description = "drain only: votes per front end (500000)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("bench", "the benchmarks of docs/PERFORMANCE.md") { what, votes };
        command.Validators.Add(result =>
        {
            if (result.GetValue(votes) is { } n && (result.GetValue(what) != "drain" || n < 1000))
            {
                result.AddError("only bench drain takes a number: votes per front end, at least 1000.");
            }
        });
        command.SetAction((parse, _) => RunAsync(parse.GetValue(what)!, parse.GetValue(votes)));
        return command;
    }

    private static async Task<AppProcess> StartTlsBalancerAsync(LocalSystem system, ProcessStartInfo bench)
    {
        var https = new Uri($"https://127.0.0.1:{FreePort.Next().ToString(CultureInfo.InvariantCulture)}/");
        Console.WriteLine($"Starting a second balancer with TLS at {https} ...");
        var balancer = system.StartBenchTlsBalancer(https);
        await balancer.WaitReadyAsync(Waiting.ReadyTimeout);
        bench.Environment["BENCH_TLS_URL"] = https.ToString().TrimEnd('/');
        return balancer;
    }

    private static async Task<int> RunAsync(string what, int? votes)
    {
        var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
        if (!system.IsDatabaseRunning)
        {
            throw new CliException("nothing runs: start with ./voting up --detach");
        }

        if (system.Tls && what is "accept" or "balancer" or "tls")
        {
            throw new CliException($"bench {what} sends plain HTTP to the front ends or the balancer, which up --tls refuses: run it on ./voting up without --tls");
        }

        await DebianPackages.EnsureAsync(Console.Out, Requirement.Wrk, Requirement.Jq, Requirement.Curl, Requirement.RedisTools);
        var settings = system.Settings;
        var info = new ProcessStartInfo(Path.Combine(Repository.Root, "bench", what + ".sh")) { UseShellExecute = false };
        if (votes is { } n)
        {
            info.ArgumentList.Add(n.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var (key, value) in new Dictionary<string, object>
        {
            ["VOTING_DATA"] = settings.Data,
            ["VOTING_PG_PORT"] = settings.PostgresPort,
            ["VOTING_REDIS_BASE"] = settings.RedisBase,
            ["VOTING_WEB_HTTP_BASE"] = settings.WebHttpBase,
            ["VOTING_WORKER_HTTP_BASE"] = settings.WorkerHttpBase,
            ["VOTING_RESULTS_PORT"] = settings.ResultsPort,
            ["VOTING_BALANCER_PORT"] = settings.BalancerPort,
            ["VOTING_CONFIGURATION"] = Repository.Configuration,
        })
        {
            info.Environment[key] = Convert.ToString(value, CultureInfo.InvariantCulture);
        }

        // bench tls: the same balancer beside the system's, with TLS, for as long as the benchmark runs.
        await using var tlsBalancer = what == "tls" ? await StartTlsBalancerAsync(system, info) : null;
        using var bench = Process.Start(info) ?? throw new CliException($"bench/{what}.sh did not start");
        await bench.WaitForExitAsync();
        if (tlsBalancer is not null)
        {
            await tlsBalancer.StopAsync(TimeSpan.FromSeconds(25));
        }

        return bench.ExitCode;
    }
}
