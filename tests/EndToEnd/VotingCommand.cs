using System.Diagnostics;
using Voting.Local;

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

    public async Task<CommandResult> RunAsync(params string[] arguments)
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
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException($"./voting {string.Join(' ', arguments)} did not finish in 3 minutes:\n{await output}\n{await error}");
        }

        return new CommandResult(process.ExitCode, await output, await error);
    }
}
