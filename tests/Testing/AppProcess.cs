using System.Diagnostics;
using System.Globalization;

namespace Voting.Testing;

/// <summary>One of the applications (worker silo, web front end, results) running as its own process, as in production.</summary>
public sealed class AppProcess : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    private readonly Func<int, ChildProcess> _start;

    private AppProcess(Func<int, ChildProcess> start, int httpPort, int? siloPort)
    {
        _start = start;
        Process = start(httpPort);
        HttpPort = httpPort;
        SiloPort = siloPort;
    }

    public ChildProcess Process { get; }

    public int HttpPort { get; }

    /// <summary>The port of the silo the process hosts, if it hosts one.</summary>
    public int? SiloPort { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{HttpPort}/");

    /// <summary>Starts <c>src/{folder}/bin/.../{assembly}.dll</c> with the given settings (as environment variables).</summary>
    public static AppProcess Start(string name, string folder, string assembly, IReadOnlyDictionary<string, string?> settings, string logDirectory)
    {
        var siloPort = settings.TryGetValue("Clustering__SiloPort", out var port) && int.TryParse(port, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : (int?)null;
        var dll = TestDirectories.Application(folder, assembly);
        return new AppProcess(
            httpPort =>
            {
                var environment = new Dictionary<string, string?>(settings)
                {
                    ["DOTNET_ENVIRONMENT"] = "Production",
                    ["Urls"] = $"http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}",
                };
                return ChildProcess.Start(name, "dotnet", [dll], Path.Combine(logDirectory, name + ".log"), environment, Path.GetDirectoryName(dll));
            },
            FreePort.Next(),
            siloPort);
    }

    /// <summary>Starts the same application again, with the same settings and ports, after it stopped or was killed.</summary>
    public AppProcess StartAgain()
    {
        if (!Process.HasExited)
        {
            throw new InvalidOperationException($"{Process.Name} still runs.");
        }

        return new AppProcess(_start, HttpPort, SiloPort);
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200, or fails with the process's last output.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (Process.HasExited)
            {
                throw new InvalidOperationException($"{Process.Name} exited before it was ready:\n{Process.Tail()}");
            }

            try
            {
                using var response = await Probe.GetAsync(new Uri(BaseAddress, "health/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{Process.Name} was not ready after {timeout.TotalSeconds:F0} s:\n{Process.Tail()}");
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
