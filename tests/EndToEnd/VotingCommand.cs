using System.Diagnostics;
using System.Globalization;
using Voting.Local;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>What one <c>./voting</c> command printed, and its exit code.</summary>
public sealed record CommandResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>
/// Runs the command line a user runs (<c>./voting</c> hands over to it once the solution is built), as a process of
/// its own, with its settings (<c>VOTING_*</c>) in its environment.
/// </summary>
public sealed class VotingCommand(IReadOnlyDictionary<string, string> environment)
{
    private static readonly string Cli = Path.Combine(Repository.Root, "tools", "Cli", "bin", Repository.Configuration, "net10.0", "voting.dll");

    public IReadOnlyDictionary<string, string> Environment => environment;

    /// <summary>
    /// A system of its own: its own data directory and free loopback ports for everything it starts; one worker silo
    /// (and room for a second) and <paramref name="frontends"/> front ends (and room for one more).
    /// </summary>
    public static VotingCommand ForNewSystem(int frontends)
    {
        static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);
        // Base ports: process N listens on base + N. All of them below the ephemeral range: a process started later
        // must still find its ports free.
        static string Base(int count) => Port(FreePort.NextRange(count) - 1);
        return new VotingCommand(new Dictionary<string, string>
        {
            ["VOTING_DATA"] = TestDirectories.Create("cli"),
            ["VOTING_WORKERS"] = "1",
            ["VOTING_FRONTENDS"] = Port(frontends),
            ["VOTING_PG_PORT"] = Port(FreePort.NextRange(1)),
            ["VOTING_RESULTS_PORT"] = Port(FreePort.NextRange(1)),
            ["VOTING_RESULTS_HTTPS_PORT"] = Port(FreePort.NextRange(1)),
            ["VOTING_BALANCER_PORT"] = Port(FreePort.NextRange(1)),
            ["VOTING_BALANCER_HTTPS_PORT"] = Port(FreePort.NextRange(1)),
            ["VOTING_WORKER_HTTP_BASE"] = Base(2),
            ["VOTING_WORKER_SILO_BASE"] = Base(2),
            ["VOTING_WORKER_GATEWAY_BASE"] = Base(2),
            ["VOTING_WEB_HTTP_BASE"] = Base(frontends + 1),
            ["VOTING_WEB_SILO_BASE"] = Base(frontends + 1),
            ["VOTING_REDIS_BASE"] = Base(frontends + 1),
            // The processes inherit the command's environment: a stopped front end can be retired 3 s after it last
            // registered instead of 75 s.
            ["Registry__RunningWindow"] = "00:00:03",
        });
    }

    public Task<CommandResult> RunAsync(params string[] arguments) => RunAsync(arguments, TimeSpan.FromMinutes(3));

    public async Task<CommandResult> RunAsync(string[] arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Repository.Root,
        };
        foreach (var argument in (string[])[Cli, .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("voting did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"./voting {string.Join(' ', arguments)} did not finish in {timeout.TotalMinutes:F0} minutes:\n{await output}\n{await error}");
        }

        return new CommandResult(process.ExitCode, await output, await error);
    }
}
