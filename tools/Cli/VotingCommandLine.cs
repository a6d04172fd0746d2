using System.CommandLine;
using System.CommandLine.Parsing;
using Voting.Cli.Commands;
using Voting.Cli.Local;

namespace Voting.Cli;

/// <summary>
/// <c>./voting</c>'s commands. The script installs the .NET build and hands over here; every command then installs
/// the Debian packages it needs itself. Exit codes: 0 done, 1 failed (the message says why), 2 not understood
/// (the usage says what is).
/// </summary>
internal static class VotingCommandLine
{
    public const int Failed = 1;
    public const int Misused = 2;

    public static RootCommand Build()
    {
        var root = new RootCommand(
            "Voting.Orleans on one machine. Data, logs and the processes' records live in .voting (VOTING_DATA); ports and settings: README.md.")
        {
            UpCommand.Create(),
            AddCommand.Create(),
            StopCommand.Create(),
            StartCommand.Create(),
            DownCommand.Create(),
            StatusCommand.Create(),
            LogsCommand.Create(),
            LoadCommand.Create(),
            ReceiptsCommand.Create(),
            ChaosCommand.Create(),
            RetireCommand.Create(),
            PollCommand.Create(),
            BenchCommand.Create(),
            VerifyCommand.Create(),
            TestCommand.Create(),
            SwarmCommand.Create(),
        };
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var root = Build();
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 || args.Length == 0)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync("voting: " + error.Message);
            }

            // The usage of the command that was not understood (of ./voting itself when none was named).
            await root.Parse([.. CommandPath(parsed.CommandResult), "--help"]).InvokeAsync(new InvocationConfiguration { Output = Console.Error });
            return Misused;
        }

        try
        {
            // Commands that run until Ctrl-C handle it themselves, to stop what they started in order.
            return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is CliException or LocalSettingsException or InvalidOperationException or TimeoutException or IOException)
        {
            await Console.Error.WriteLineAsync("voting: " + e.Message);
            return Failed;
        }
    }

    private static string[] CommandPath(CommandResult result)
    {
        var path = new Stack<string>();
        for (SymbolResult? current = result; current is CommandResult command && command.Parent is not null; current = command.Parent)
        {
            path.Push(command.Command.Name);
        }

        return [.. path];
    }
}
