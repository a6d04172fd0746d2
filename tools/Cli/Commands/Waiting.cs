using System.Diagnostics;
using Spectre.Console;
using Voting.Local.Applications;

namespace Voting.Cli.Commands;

/// <summary>Waits for applications to answer ready; on a terminal, a live line says which are still starting.</summary>
internal static class Waiting
{
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    /// <summary>Returns once every application is ready; throws as soon as one exits or times out.</summary>
    public static async Task UntilReadyAsync(IReadOnlyCollection<AppProcess> apps, CancellationToken cancellationToken = default)
    {
        var waits = apps.Select(app => (app.Process.Name, Ready: app.WaitReadyAsync(ReadyTimeout))).ToArray();
        if (AnsiConsole.Profile.Capabilities.Interactive)
        {
            await AnsiConsole.Status().StartAsync("Starting...", status => WaitAsync(waits, text => status.Status(text), cancellationToken));
        }
        else
        {
            await WaitAsync(waits, _ => { }, cancellationToken);
        }
    }

    private static async Task WaitAsync((string Name, Task Ready)[] waits, Action<string> show, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        while (waits.Any(w => !w.Ready.IsCompleted))
        {
            if (waits.FirstOrDefault(w => w.Ready.IsFaulted).Ready is { } failed)
            {
                await failed;
            }

            show($"Waiting for {string.Join(", ", waits.Where(w => !w.Ready.IsCompleted).Select(w => w.Name))} to be ready ({watch.Elapsed.TotalSeconds:F0} s)");
            await Task.WhenAny([.. waits.Select(w => w.Ready), Task.Delay(250, cancellationToken)]);
            cancellationToken.ThrowIfCancellationRequested();
        }

        await Task.WhenAll(waits.Select(w => w.Ready));
    }
}
