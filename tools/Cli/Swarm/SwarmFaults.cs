namespace Voting.Cli.Swarm;

/// <summary>One failure of the tutorial's troubleshooting list: how to cause it on the Swarm, and how it ends.</summary>
/// <param name="Name">What <c>swarm chaos --fault</c> calls it.</param>
/// <param name="Description">What happens, in a sentence.</param>
/// <param name="Inject">Causes it.</param>
/// <param name="Heal">Ends it after the hold (for faults Swarm mends itself, nothing).</param>
internal sealed record SwarmFault(string Name, string Description, Func<Task> Inject, Func<Task> Heal)
{
    private static Task Nothing() => Task.CompletedTask;

    /// <summary>The list, in the order <c>swarm chaos</c> runs it.</summary>
    public static readonly IReadOnlyList<SwarmFault> All =
    [
        new("web-container", "kill the web container on frontend02: Swarm starts another, the balancer routes around it meanwhile",
            () => SwarmSystem.KillTaskAsync("web", "frontend02"), Nothing),
        new("redis-container", "kill the Redis container on frontend02: its pair is out of rotation until Redis is back from its append-only file",
            () => SwarmSystem.KillTaskAsync("redis", "frontend02"), Nothing),
        new("worker", "kill the worker container and stop its node, worker01: votes queue in Redis until a worker returns",
            async () =>
            {
                await SwarmSystem.KillTaskAsync("worker", "worker01");
                await SwarmSystem.StopNodeAsync("worker01");
            },
            () => SwarmSystem.StartNodeAsync("worker01")),
        new("postgres", "kill PostgreSQL on store: Swarm starts it again on its volume; drainers retry their batch",
            () => SwarmSystem.KillTaskAsync("postgres", "store"), Nothing),
        new("results", "kill the results app: Swarm starts another",
            () => SwarmSystem.KillTaskAsync("results", "store"), Nothing),
        new("manager", "stop the manager node: no Swarm control plane, and the app keeps serving votes",
            () => SwarmSystem.StopNodeAsync(SwarmNodes.Manager), () => SwarmSystem.StartNodeAsync(SwarmNodes.Manager)),
        new("frontend-node", "stop node frontend02, web and Redis with it, and start it again: its Redis volume survives, its votes are counted",
            () => SwarmSystem.StopNodeAsync("frontend02"), () => SwarmSystem.StartNodeAsync("frontend02")),
        new("partition", "cut node frontend02 off the network, then connect it again",
            () => SwarmSystem.PartitionAsync("frontend02", cut: true), () => SwarmSystem.PartitionAsync("frontend02", cut: false)),
    ];

    public static IEnumerable<string> Names => All.Select(f => f.Name);
}
