using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Voting.LoadGen;

namespace Voting.Cli.Swarm;

/// <summary>
/// <c>./voting swarm chaos</c>: the load tool votes through the Swarm's balancer while the tutorial's failures
/// (<see cref="SwarmFault"/>) happen one after the other — each caused, held, ended and waited out, with a probe vote
/// through the balancer while it lasts — and then the load stops and the audit checks every acknowledged vote.
/// </summary>
internal sealed class SwarmChaos(SwarmSystem swarm, TextWriter output)
{
    public static readonly TimeSpan Hold = TimeSpan.FromSeconds(20);

    /// <summary>The load's defaults here; the caller's options come after them and win.</summary>
    public static readonly string[] LoadDefaults = ["--voters", "100000", "--rate", "100", "--concurrency", "16", "--duration", "1h", "--drain-timeout", "4m", "--progress", "10s"];

    /// <returns>0 when every acknowledged vote was counted once and votes were taken during every fault.</returns>
    public async Task<int> RunAsync(IReadOnlyList<SwarmFault> faults, LoadOptions load)
    {
        var endpoints = await swarm.WaitUntilReadyAsync(await SwarmSystem.FrontendNamesAsync());
        var frontends = await SwarmSystem.FrontendNamesAsync();
        load = load with { Frontends = [endpoints.Vote], Results = endpoints.Results, Postgres = endpoints.Postgres, TrustedCertificates = [endpoints.Certificate.Load()] };
        var log = TextWriter.Synchronized(output);
        using var stopSending = new CancellationTokenSource();
        var run = Task.Run(() => LoadRun.RunAsync(load, log, stopSending.Token, CancellationToken.None));
        var failures = new List<string>();
        var context = new SwarmFaultContext(log, endpoints.Postgres);
        try
        {
            await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(15)));
            foreach (var fault in faults)
            {
                if (run.IsCompleted)
                {
                    // The load could not start, or stopped: no fault without votes to watch.
                    break;
                }

                Step(log, $"fault {fault.Name}: {fault.Description}");
                var heal = await fault.Cause(context);
                await Task.Delay(Hold / 2);
                // The system takes votes while the fault lasts.
                if (await ProbeVoteAsync(endpoints) is { } refused)
                {
                    failures.Add($"{fault.Name}: a vote through the balancer was not taken during the fault ({refused})");
                    Step(log, $"  a vote through the balancer was NOT taken during the fault: {refused}");
                }
                else
                {
                    Step(log, "  a vote through the balancer was taken during the fault");
                }

                await Task.Delay(Hold / 2);
                Step(log, $"ending {fault.Name}");
                await heal();
                await swarm.WaitUntilReadyAsync(frontends);
                Step(log, "  everything answers ready again; every front end is routed to");
            }

            await Task.Delay(TimeSpan.FromSeconds(10));
            Step(log, "faults over; the load stops and the audit follows");
        }
        finally
        {
            await stopSending.CancelAsync();
        }

        LoadReport report;
        try
        {
            report = await run;
        }
        catch (LoadRunException e)
        {
            throw new CliException("the load run could not start: " + e.Message);
        }

        foreach (var failure in failures)
        {
            log.WriteLine("FAILED: " + failure);
        }

        if (!report.Passed)
        {
            await SwarmDiagnostics.WriteAsync(log);
        }

        return report.Passed && failures.Count == 0 ? 0 : 1;
    }

    /// <summary>One voter's vote through the balancer: null when it was taken (202), else what came back.</summary>
    private static async Task<string?> ProbeVoteAsync(SwarmEndpoints endpoints)
    {
        try
        {
            var handler = new SocketsHttpHandler { CookieContainer = new CookieContainer() };
            handler.SslOptions.CertificateChainPolicy = endpoints.Certificate.TrustPolicy();
            using var http = new HttpClient(handler) { BaseAddress = endpoints.Vote, Timeout = TimeSpan.FromSeconds(15) };
            using var page = await http.GetAsync("/");
            using var response = await http.PostAsJsonAsync("/api/votes", new { option = "a" });
            return response.StatusCode == HttpStatusCode.Accepted ? null : $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return e.Message;
        }
    }

    private static void Step(TextWriter log, string text) => log.WriteLine($"{DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {text}");
}
