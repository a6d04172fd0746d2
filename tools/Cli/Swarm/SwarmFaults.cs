using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Voting.Cli.Swarm;

/// <summary>What a fault may use while it lasts: the chaos run's log, and the votes database as the audit reaches it.</summary>
internal sealed record SwarmFaultContext(TextWriter Log, string Postgres);

/// <summary>One failure of the tutorial's troubleshooting list: how to cause it on the Swarm, and how it ends.</summary>
/// <param name="Name">What <c>swarm chaos --fault</c> calls it.</param>
/// <param name="Description">What happens, in a sentence.</param>
/// <param name="Cause">Causes it, and returns what ends it after the hold (for faults Swarm mends itself, nothing).</param>
internal sealed record SwarmFault(string Name, string Description, Func<SwarmFaultContext, Task<Func<Task>>> Cause)
{
    private static SwarmFault Of(string name, string description, Func<Task> inject, Func<Task>? heal = null) =>
        new(name, description, async _ =>
        {
            await inject();
            return heal ?? (() => Task.CompletedTask);
        });

    /// <summary>The list, in the order <c>swarm chaos</c> runs it.</summary>
    public static readonly IReadOnlyList<SwarmFault> All =
    [
        Of("web-container", "kill the web container on frontend02: Swarm starts another, the balancer routes around it meanwhile",
            () => SwarmSystem.KillTaskAsync("web", "frontend02")),
        Of("redis-container", "kill the Redis container on frontend02: its pair is out of rotation until Redis is back from its append-only file",
            () => SwarmSystem.KillTaskAsync("redis", "frontend02")),
        Of("worker", "kill the worker container and stop its node, worker01 (PostgreSQL's standby with it): votes queue in Redis until a worker returns",
            async () =>
            {
                await SwarmSystem.KillTaskAsync("worker", "worker01");
                await SwarmSystem.StopNodeAsync("worker01");
            },
            () => SwarmSystem.StartNodeAsync("worker01")),
        new("postgres", "kill the PostgreSQL primary's container: Swarm starts it again on its volume, or the monitor promotes the standby first; drainers retry their batch",
            async context =>
            {
                var (service, node) = await SwarmSystem.PrimaryAsync();
                context.Log.WriteLine($"  the primary is {service}, on node {node}");
                await SwarmSystem.KillTaskAsync(service, node);
                return () => Task.CompletedTask;
            }),
        Of("results", "kill the results app: Swarm starts another",
            () => SwarmSystem.KillTaskAsync("results", "store")),
        Of("manager", "stop the manager node (PostgreSQL's monitor with it): no Swarm control plane, and the app keeps serving votes",
            () => SwarmSystem.StopNodeAsync(SwarmNodes.Manager), () => SwarmSystem.StartNodeAsync(SwarmNodes.Manager)),
        Of("frontend-node", "stop node frontend02, web and Redis with it, and start it again: its Redis volume survives, its votes are counted",
            () => SwarmSystem.StopNodeAsync("frontend02"), () => SwarmSystem.StartNodeAsync("frontend02")),
        Of("partition", "cut node frontend02 off the network, then connect it again",
            () => SwarmSystem.PartitionAsync("frontend02", cut: true), () => SwarmSystem.PartitionAsync("frontend02", cut: false)),
        new("primary-node", "kill PostgreSQL's primary and stop its node: the monitor promotes the standby on another node, the drainers follow it; the node started again rejoins as the standby",
            async context =>
            {
                var (service, node) = await SwarmSystem.PrimaryAsync();
                context.Log.WriteLine($"  the primary is {service}, on node {node}");
                // The worker silo runs on worker01 too, where postgres02 is: with that node stopped no drainer runs
                // until it is back and its silo has joined the cluster again, which takes longer than the failover.
                var drainersStop = await SwarmSystem.TaskNodeAsync("worker") == node;
                if (drainersStop)
                {
                    context.Log.WriteLine($"  node {node} runs the worker silo too: no drainer runs until the node is back");
                }

                var killed = Stopwatch.StartNew();
                await SwarmSystem.KillTaskAsync(service, node);
                var failover = FailoverProbe.Start(context.Postgres, killed, drainersStop ? FailoverProbe.DrainersRestartPatience : FailoverProbe.Patience);
                await SwarmSystem.StopNodeAsync(node);
                return async () =>
                {
                    await failover.ReportFailoverAsync(context.Log);
                    await SwarmSystem.StartNodeAsync(node);
                    context.Log.WriteLine($"  node {node} started again {failover.Elapsed} after the kill");
                    await failover.ReportDrainAsync(context.Log);
                };
            }),
    ];

    public static IEnumerable<string> Names => All.Select(f => f.Name);
}

/// <summary>
/// Measures a failover once the primary is dead: how long after the kill (<c>killed</c>, started just before it) a
/// write is accepted through the multi-host connection string (the applications' kind), and the drainers have
/// counted a vote again. The write is given <see cref="Patience"/> from the kill, the drain as long as the caller says:
/// longer when the drainers were stopped with the primary's node.
/// </summary>
internal sealed class FailoverProbe
{
    /// <summary>From the kill to a write accepted, and to a vote counted while the drainers run.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>From the kill to a vote counted when the drainers' node was stopped too: it is started again, the silo starts and joins.</summary>
    public static readonly TimeSpan DrainersRestartPatience = TimeSpan.FromMinutes(6);

    private readonly Stopwatch _watch;
    private readonly TimeSpan _drainPatience;
    private readonly TaskCompletionSource<TimeSpan?> _write = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task<TimeSpan?> _run;

    private FailoverProbe(string connectionString, Stopwatch killed, TimeSpan drainPatience)
    {
        _watch = killed;
        _drainPatience = drainPatience;
        _run = Task.Run(() => RunAsync(connectionString));
    }

    public static FailoverProbe Start(string connectionString, Stopwatch killed, TimeSpan drainPatience) => new(connectionString, killed, drainPatience);

    /// <summary>The time since the kill, for the log.</summary>
    public string Elapsed => Seconds(_watch.Elapsed);

    public async Task ReportFailoverAsync(TextWriter log) =>
        log.WriteLine(await _write.Task is { } write
            ? $"  failover: a write accepted through the multi-host connection string {Seconds(write)} after the kill"
            : $"  failover: NO write accepted within {Patience.TotalMinutes:F0} minutes of the kill");

    public async Task ReportDrainAsync(TextWriter log) =>
        log.WriteLine(await _run is { } drain
            ? $"  drain stall: a vote counted again {Seconds(drain)} after the kill"
            : $"  drain stall: NO vote counted within {_drainPatience.TotalMinutes:F0} minutes of the kill");

    private async Task<TimeSpan?> RunAsync(string connectionString)
    {
        try
        {
            return await MeasureAsync(connectionString);
        }
        finally
        {
            _write.TrySetResult(null);
        }
    }

    private async Task<TimeSpan?> MeasureAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 2, CommandTimeout = 5 };
        TimeSpan? write = null;
        long? counted = null;
        while (_watch.Elapsed < (write is null ? Patience : _drainPatience))
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync();
                if (write is null)
                {
                    // A write, not merely a connection: a standby promoted read-only refuses it.
                    await using var probe = new NpgsqlCommand("CREATE TEMP TABLE failover_probe (at timestamptz); INSERT INTO failover_probe VALUES (now())", connection);
                    await probe.ExecuteNonQueryAsync();
                    write = _watch.Elapsed;
                    _write.TrySetResult(write);
                }

                await using var count = new NpgsqlCommand("SELECT count(*) FROM votes", connection);
                var now = (long)(await count.ExecuteScalarAsync())!;
                if (counted is { } before && now > before)
                {
                    return _watch.Elapsed;
                }

                counted ??= now;
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
            {
                // No node takes writes yet.
            }

            await Task.Delay(200);
        }

        return null;
    }

    private static string Seconds(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s";
}
