using System.CommandLine;
using System.Runtime.InteropServices;
using Voting.Cli.Installing;
using Voting.Cli.Local;
using Voting.Local.Applications;

namespace Voting.Cli.Commands;

/// <summary><c>./voting up [--detach]</c>: the whole system, started in order and waited for, then its URLs.</summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var detach = new Option<bool>("--detach") { Description = "return once everything is ready, leaving it running (./voting down stops it)" };
        var postgresHa = new Option<bool>("--postgres-ha")
        {
            Description = "PostgreSQL as a primary (VOTING_PG_PORT) with a synchronous standby (the next port) and automatic failover " +
                "(pg_auto_failover; its monitor on the port after), instead of one server",
        };
        var tls = new Option<bool>("--tls")
        {
            Description = "the load balancer serves HTTPS (VOTING_BALANCER_HTTPS_PORT, 8443) with a self-signed certificate made in .voting/tls/ " +
                "for 127.0.0.1 and localhost, its HTTP port redirecting there; the front ends then require HTTPS, as in production",
        };
        var command = new Command("up",
            "install what is missing, start PostgreSQL, the worker silo(s), the web front ends (each with its own Redis), the load " +
            "balancer and the results app; print the URLs. Ctrl-C stops everything (with --detach, ./voting down does). " +
            "VOTING_WORKERS (1) and VOTING_FRONTENDS (2) set how many.")
        {
            detach,
            postgresHa,
            tls,
        };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(detach), parse.GetValue(postgresHa), parse.GetValue(tls)));
        return command;
    }

    private static async Task<int> RunAsync(bool detach, bool postgresHa, bool tls)
    {
        var output = Console.Out;
        var system = new LocalSystem(LocalSettings.FromEnvironment(), output);
        var settings = system.Settings;
        if (tls != system.Tls && system.IsRunning("balancer"))
        {
            throw new CliException(tls ? "the system runs without TLS: ./voting down first, then up --tls." : "the system runs with TLS (up --tls): ./voting down first, or up --tls.");
        }

        var certificate = tls ? system.EnableTls() : null;
        await DebianPackages.EnsureAsync(output, postgresHa ? [.. Requirement.Servers, Requirement.PostgresHa] : Requirement.Servers);

        // Ctrl-C (or SIGTERM) from here on stops everything, also while it is still starting.
        using var stopping = new CancellationTokenSource();
        using var interrupt = detach ? null : PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var terminate = detach ? null : PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            stopping.Cancel();
        }

        try
        {
            await StartAsync(system, stopping.Token, postgresHa);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            await DownCommand.DownAsync(system, output);
            return 0;
        }

        output.WriteLine();
        output.WriteLine("Voting.Orleans is up.");
        var balancer = system.Find("balancer");
        if (certificate is not null)
        {
            output.WriteLine($"  Vote:       {system.HttpsUrl}   (load balancer over the front ends, HTTPS; http://127.0.0.1:{settings.BalancerPort}/ redirects there; its view: {balancer?.ManagementUrl}balancer/frontends)");
            output.WriteLine($"  TLS:        self-signed certificate {certificate.CertificatePath}: curl --cacert {certificate.CertificatePath}, ./voting load --ca is passed it");
        }
        else
        {
            output.WriteLine($"  Vote:       http://127.0.0.1:{settings.BalancerPort}/   (load balancer over the front ends; its view: {balancer?.ManagementUrl}balancer/frontends)");
        }

        foreach (var frontend in system.Components().Where(c => c.Kind is ComponentKind.Frontend))
        {
            var redis = system.Find(ComponentRecord.NameOf(ComponentKind.Redis, frontend.Index));
            output.WriteLine($"  Front end:  {frontend.Url}   ({frontend.Name}, Redis 127.0.0.1:{redis?.Port}{(certificate is null ? "" : "; HTTPS only, through the balancer")})");
        }

        output.WriteLine(certificate is null
            ? $"  Results:    {system.ResultsUrl}   (JSON: /api/results; receipts: /receipt)"
            : $"  Results:    {system.ResultsUrl}   (HTTPS; http://127.0.0.1:{settings.ResultsPort}/ redirects there; JSON: /api/results; receipts: /receipt)");
        foreach (var worker in system.Components().Where(c => c.Kind is ComponentKind.Worker))
        {
            output.WriteLine($"  Dashboard:  {worker.ManagementUrl}dashboard/   ({worker.Name}; drainers: /api/drainers)");
        }

        // Every management surface (dashboard, /metrics, health details, /api/drainers, /balancer/frontends,
        // /api/pipeline) answers only on the applications' management ports, with the token.
        output.WriteLine($"  Management: each process's management port (HTTP port + {settings.ManagementOffset}); token in {settings.ManagementTokenPath}");
        output.WriteLine($"              browser: {system.Components().FirstOrDefault(c => c.Kind is ComponentKind.Worker)?.ManagementUrl}management/sign-in (paste the token); curl: -H \"Authorization: Bearer $(cat {settings.ManagementTokenPath})\"");

        output.WriteLine($"  PostgreSQL: {system.ConnectionString}");
        if (system.HighAvailability)
        {
            var primary = await system.PrimaryOrNullAsync();
            foreach (var node in system.Components().Where(c => c.Kind is ComponentKind.Postgres or ComponentKind.PostgresMonitor))
            {
                var role = node.Kind is ComponentKind.PostgresMonitor ? "pg_auto_failover monitor" : node.Index - 1 == primary ? "primary" : "standby";
                output.WriteLine($"              {node.Name} 127.0.0.1:{node.Port} ({role})");
            }
        }
        output.WriteLine($"  Logs:       {settings.Logs}");
        if (detach)
        {
            output.WriteLine("Stop it with ./voting down.");
            return 0;
        }

        output.WriteLine("Press Ctrl-C to stop everything.");
        await SuperviseAsync(system, output, stopping.Token);
        output.WriteLine();
        await DownCommand.DownAsync(system, output);
        return 0;
    }

    /// <summary>Starts every process of the system, in order, and waits until each answers ready.</summary>
    public static async Task StartAsync(LocalSystem system, CancellationToken cancellationToken, bool postgresHa = false)
    {
        var settings = system.Settings;
        var output = Console.Out;
        output.WriteLine(postgresHa || system.HighAvailability
            ? "Starting PostgreSQL: a primary with a synchronous standby and a pg_auto_failover monitor..."
            : "Starting PostgreSQL...");
        await system.StartPostgresAsync(postgresHa);
        output.WriteLine($"Starting {settings.Workers} worker silo(s), {settings.Frontends} front end(s) with their Redis, the load balancer and the results app ({settings.Clustering} clustering)...");
        // worker01 first: with Localhost clustering it keeps the membership table the others join.
        await Waiting.UntilReadyAsync([system.StartWorker(1)], cancellationToken);
        List<AppProcess> apps = [.. Enumerable.Range(2, settings.Workers - 1).Select(system.StartWorker)];
        foreach (var index in Enumerable.Range(1, settings.Frontends))
        {
            apps.Add(await system.StartFrontendAsync(index));
        }

        apps.Add(system.StartResults());
        var balancer = system.StartBalancer();
        apps.Add(balancer);
        await Waiting.UntilReadyAsync(apps, cancellationToken);
        await WaitUntilRoutedAsync(system, balancer, [.. Enumerable.Range(1, settings.Frontends).Select(i => ComponentRecord.NameOf(ComponentKind.Frontend, i))], cancellationToken);
    }

    /// <summary>
    /// Waits until the balancer routes to every front end, as its own health checks found them (its view on the
    /// management port): a balancer that answered ready before a slow front end was up has marked it unhealthy, and
    /// routes to it only after its next check, seconds later. The system is up when a vote through it is taken.
    /// </summary>
    private static async Task WaitUntilRoutedAsync(LocalSystem system, AppProcess balancer, IReadOnlyList<string> frontends, CancellationToken cancellationToken)
    {
        using var http = system.ManagementClient(TimeSpan.FromSeconds(5));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<string> routed = [];
        while (watch.Elapsed < Waiting.ReadyTimeout)
        {
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri(balancer.ManagementAddress, "balancer/frontends"), cancellationToken));
                routed = [.. document.RootElement.GetProperty("frontends").EnumerateArray()
                    .Where(f => f.GetProperty("available").GetBoolean() && f.GetProperty("active").GetString() == "Healthy")
                    .Select(f => f.GetProperty("id").GetString()!)];
                if (frontends.All(routed.Contains))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                // It is starting; ask again.
                cancellationToken.ThrowIfCancellationRequested();
            }

            await Task.Delay(250, cancellationToken);
        }

        throw new CliException($"the balancer does not route to {string.Join(", ", frontends.Except(routed))} after {Waiting.ReadyTimeout.TotalSeconds:F0} s (its view: {balancer.ManagementAddress}balancer/frontends)");
    }

    /// <summary>Until Ctrl-C: says once when a process it started is no longer running.</summary>
    private static async Task SuperviseAsync(LocalSystem system, TextWriter output, CancellationToken cancellationToken)
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var component in system.Components())
            {
                var running = component.Process.IsAlive();
                if (!running && reported.Add(component.Name))
                {
                    output.WriteLine($"voting: {component.Name} is no longer running; see {system.LogPath(component.Name)}");
                }
                else if (running)
                {
                    reported.Remove(component.Name);
                }
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Ctrl-C: stop everything.
            }
        }
    }
}
