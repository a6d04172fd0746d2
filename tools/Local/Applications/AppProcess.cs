using System.Diagnostics;
using System.Globalization;
using Voting.Local.Processes;

namespace Voting.Local.Applications;

/// <summary>
/// How one application process is started: which application, under which name, with which settings (environment
/// variables) and ports. Starting the same launch again gives the same process after a crash or a stop.
/// </summary>
/// <param name="Name">The process's name, e.g. <c>frontend01</c>; its log is <c>{LogDirectory}/{Name}.log</c>.</param>
/// <param name="Folder">The application's folder under <c>src/</c>, e.g. <c>Web</c>.</param>
/// <param name="Assembly">Its entry assembly, e.g. <c>Voting.Web</c>.</param>
/// <param name="Settings">Its settings, as environment variables (<c>Section__Key</c>), added to the starting process's own.</param>
/// <param name="LogDirectory">Where its log goes.</param>
/// <param name="Ports">The ports it listens on (public and management HTTP, silo); the silo ports must agree with the settings.</param>
public sealed record AppLaunch(string Name, string Folder, string Assembly, IReadOnlyDictionary<string, string?> Settings, string LogDirectory, AppPorts Ports)
{
    public string LogPath => Path.Combine(LogDirectory, Name + ".log");

    public Uri BaseAddress => new($"http://127.0.0.1:{Ports.Http.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>The management port's address: the dashboard, <c>/metrics</c>, health details, the operator APIs.</summary>
    public Uri ManagementAddress => new($"http://127.0.0.1:{Ports.Management.ToString(CultureInfo.InvariantCulture)}/");
}

/// <summary>One of the applications (worker silo, web front end, results, load balancer) running as its own process, as in production.</summary>
public sealed class AppProcess : IAsyncDisposable
{
    private AppProcess(AppLaunch launch, LocalProcess process)
    {
        Launch = launch;
        Process = process;
    }

    public AppLaunch Launch { get; }

    public LocalProcess Process { get; }

    public int HttpPort => Launch.Ports.Http;

    /// <summary>The port of the silo the process hosts, if it hosts one.</summary>
    public int? SiloPort => Launch.Ports.Silo;

    public Uri BaseAddress => Launch.BaseAddress;

    /// <summary>Where its management surfaces answer, with the management token.</summary>
    public Uri ManagementAddress => Launch.ManagementAddress;

    /// <summary>Starts <c>src/{Folder}/bin/.../{Assembly}.dll</c> with the launch's settings, listening on its HTTP port.</summary>
    public static AppProcess Start(AppLaunch launch)
    {
        var dll = Repository.Application(launch.Folder, launch.Assembly);
        var environment = new Dictionary<string, string?>(launch.Settings)
        {
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Urls"] = $"http://127.0.0.1:{launch.Ports.Http.ToString(CultureInfo.InvariantCulture)}",
            ["Management__Urls"] = launch.ManagementAddress.ToString().TrimEnd('/'),
        };
        return new AppProcess(launch, LocalProcess.Start(launch.Name, "dotnet", [dll], launch.LogPath, environment, Path.GetDirectoryName(dll)));
    }

    /// <summary>The process a previous command started from <paramref name="launch"/>, while it runs.</summary>
    public static AppProcess? Attach(AppLaunch launch, ProcessIdentity identity) =>
        LocalProcess.Attach(launch.Name, identity, launch.LogPath) is { } process ? new AppProcess(launch, process) : null;

    /// <summary>Starts the same application again, with the same settings and ports, after it stopped or was killed.</summary>
    public AppProcess StartAgain() => Process.HasExited ? Start(Launch) : throw new InvalidOperationException($"{Process.Name} still runs.");

    /// <summary>Whether <c>/health/ready</c> answers 200 now.</summary>
    public async Task<bool> IsReadyAsync() => await Readiness.StatusAsync(BaseAddress) == 200;

    /// <summary>Waits until <c>/health/ready</c> answers 200, or fails with the process's last output.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"{Process.Name} {Process.HowItEnded} before it was ready (log: {Process.LogPath}):\n{Process.Tail()}");
            }

            if (await IsReadyAsync())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Process.Name} was not ready after {timeout.TotalSeconds:F0} s (log: {Process.LogPath}):\n{Process.Tail()}");
    }

    /// <summary>Stops the application (SIGTERM), killing it if it has not stopped within <paramref name="grace"/>.</summary>
    public Task<bool> StopAsync(TimeSpan grace) => Process.StopAsync(grace);

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
