namespace Voting.Cli.Swarm;

/// <summary>
/// What a failed <c>swarm chaos</c> run leaves behind for its post-mortem, written into its log before the Swarm is
/// changed again: the front ends' tasks as the manager knows them, every Redis and web container each front-end node
/// still holds (running or exited, with its exit code; a Redis's log too), and each Redis stream's state — its
/// length, the group's last delivered entry and what is pending, and the entries still in it. A vote the audit found
/// missing is then either still in a stream (not drained) or in none (lost before the drain).
/// </summary>
internal static class SwarmDiagnostics
{
    private const int LogLines = 40;

    public static async Task WriteAsync(TextWriter log)
    {
        log.WriteLine("Diagnostics (the audit failed):");
        try
        {
            Section(log, "front ends' tasks", await DockerCli.OnNodeAsync(SwarmNodes.Manager,
                ["service", "ps", $"{SwarmSystem.Stack}_web", $"{SwarmSystem.Stack}_redis", "--no-trunc",
                 "--format", "{{.Name}} {{.Node}} desired={{.DesiredState}} {{.CurrentState}} {{.Error}}"], check: false));
            foreach (var node in await SwarmSystem.FrontendNamesAsync())
            {
                await WriteNodeAsync(log, node);
            }

            if (await SwarmSystem.TaskNodeAsync("worker") is { } workerNode)
            {
                await WriteWorkerWarningsAsync(log, workerNode);
            }
        }
        catch (Exception e) when (e is CliException or IOException or InvalidOperationException)
        {
            log.WriteLine($"  (diagnostics stopped: {e.Message})");
        }
    }

    private static async Task WriteNodeAsync(TextWriter log, string node)
    {
        var containers = await DockerCli.OnNodeAsync(node, ["ps", "-a", "--no-trunc", "--filter", $"label=com.docker.stack.namespace={SwarmSystem.Stack}",
            "--format", "{{.ID}} {{.Names}} {{.Status}}"], check: false);
        Section(log, $"{node}: containers", containers);
        foreach (var line in containers.Lines)
        {
            var id = line.Split(' ')[0];
            var isRedis = line.Contains($"{SwarmSystem.Stack}_redis.", StringComparison.Ordinal);
            if (isRedis || line.Contains($"{SwarmSystem.Stack}_web.", StringComparison.Ordinal))
            {
                Section(log, $"{node}: {id[..12]}", await DockerCli.OnNodeAsync(node, ["inspect", "--format", "started {{.State.StartedAt}} finished {{.State.FinishedAt}} exit {{.State.ExitCode}} oom {{.State.OOMKilled}}", id], check: false));
            }

            if (isRedis)
            {
                // Its own account of starting, loading and stopping; repeated lines (one per refused transaction) counted.
                var logs = await DockerCli.OnNodeAsync(node, ["logs", "--timestamps", id], check: false);
                var lines = (logs.Output + logs.Error).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Where(l => !l.Contains("WARNING Memory overcommit", StringComparison.Ordinal) && !l.Contains("oO0OoO0OoO0Oo", StringComparison.Ordinal))
                    .ToList();
                log.WriteLine($"  --- {node}: {id[..12]} log ({lines.Count(l => l.Contains("CRITICAL", StringComparison.Ordinal))} CRITICAL lines)");
                foreach (var text in lines.Where(l => !l.Contains("CRITICAL", StringComparison.Ordinal)).TakeLast(LogLines))
                {
                    log.WriteLine("    " + text.TrimEnd());
                }
            }

            if (line.Contains($"{SwarmSystem.Stack}_redis.", StringComparison.Ordinal) && line.Contains(" Up ", StringComparison.Ordinal))
            {
                // As the drainers see the stream: their Redis user, from the container's own secret.
                const string script =
                    """
                    cli() { redis-cli --no-auth-warning --user voting-drainer --pass "$(cat /run/secrets/voting_redis_drainer_password)" "$@"; }
                    echo "XLEN $(cli XLEN votes)"; echo "XINFO GROUPS:"; cli XINFO GROUPS votes; echo "XPENDING:"; cli XPENDING votes drainers
                    echo "entries still in the stream (first 20):"; cli XRANGE votes - + COUNT 20
                    """;
                Section(log, $"{node}: the stream", await DockerCli.OnNodeAsync(node, ["exec", id, "sh", "-c", script], check: false), both: true);
            }
        }
    }

    /// <summary>The drainers' side: the worker silos' warnings and errors (the .NET console format's "warn:", "fail:", "crit:").</summary>
    private static async Task WriteWorkerWarningsAsync(TextWriter log, string node)
    {
        var workers = await DockerCli.OnNodeAsync(node, ["ps", "-q", "--filter", $"label=com.docker.swarm.service.name={SwarmSystem.Stack}_worker"], check: false);
        foreach (var id in workers.Lines)
        {
            var logs = await DockerCli.OnNodeAsync(node, ["logs", "--timestamps", "--tail", "2000", id], check: false);
            var warnings = (logs.Output + logs.Error).Split('\n')
                .Where(l => l.Contains(" warn: ", StringComparison.Ordinal) || l.Contains(" fail: ", StringComparison.Ordinal) || l.Contains(" crit: ", StringComparison.Ordinal))
                .TakeLast(LogLines)
                .Select(l => l.Length > 400 ? l[..400] + "..." : l);
            log.WriteLine($"  --- {node}: worker {id} warnings and errors (last {LogLines})");
            foreach (var line in warnings)
            {
                log.WriteLine("    " + line.TrimEnd());
            }
        }
    }

    private static void Section(TextWriter log, string title, DockerResult result, bool both = false)
    {
        log.WriteLine($"  --- {title}{(result.Succeeded ? "" : $" (exit {result.ExitCode})")}");
        foreach (var line in (both ? result.Output + result.Error : result.Output).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            log.WriteLine("    " + line.TrimEnd());
        }
    }
}
