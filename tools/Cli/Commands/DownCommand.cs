using System.CommandLine;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary><c>./voting down</c>: stops everything <c>./voting</c> started, applications first.</summary>
internal static class DownCommand
{
    public static Command Create()
    {
        var command = new Command("down", "stop everything ./voting up (and add) started");
        command.SetAction(async (_, _) =>
        {
            await DownAsync(new LocalSystem(LocalSettings.FromEnvironment(), Console.Out), Console.Out);
            return 0;
        });
        return command;
    }

    public static async Task DownAsync(LocalSystem system, TextWriter output)
    {
        output.WriteLine("Stopping...");
        await system.DownAsync();
        output.WriteLine("Stopped.");
    }
}
