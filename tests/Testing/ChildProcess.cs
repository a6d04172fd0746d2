using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Voting.Testing;

/// <summary>
/// A process the tests start (a server or one of the applications), its output kept in a log file and in memory for
/// failure messages. Every pid is also appended to <c>$VOTING_TEST_PIDS</c> so that <c>./voting test</c> can clean up
/// after a test host that died without disposing its fixtures.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const int SigKill = 9;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _tail = new();
    private readonly StreamWriter _log;

    private ChildProcess(Process process, string name, string logPath)
    {
        _process = process;
        Name = name;
        LogPath = logPath;
        _log = new StreamWriter(logPath, append: true, Encoding.UTF8) { AutoFlush = true };
    }

    public string Name { get; }

    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public Task Exited => _process.WaitForExitAsync();

    public static ChildProcess Start(string name, string fileName, IEnumerable<string> arguments, string logPath,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(logPath)!,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, name, logPath);
        process.OutputDataReceived += (_, e) => child.Record(e.Data);
        process.ErrorDataReceived += (_, e) => child.Record(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"{name} did not start: {fileName}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        RememberPid(process.Id);
        return child;
    }

    /// <summary>The last lines the process wrote, for assertion messages.</summary>
    public string Tail(int lines = 60) => string.Join('\n', _tail.TakeLast(lines));

    /// <summary>Asks the process to stop (SIGTERM) and kills it if it has not within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        _ = Kill(_process.Id, SigTerm);
        using var timeout = new CancellationTokenSource(grace);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            KillNow();
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Sends <paramref name="signal"/> to any process; false when it could not (no such process).</summary>
    public static bool Signal(int pid, int signal) => Kill(pid, signal) == 0;

    /// <summary><c>kill -9</c>: no chance to clean up.</summary>
    public void KillNow()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigKill);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
        await _log.DisposeAsync();
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        _tail.Enqueue(line);
        while (_tail.Count > 400)
        {
            _tail.TryDequeue(out _);
        }

        lock (_log)
        {
            _log.WriteLine(line);
        }
    }

    private static void RememberPid(int pid)
    {
        if (Environment.GetEnvironmentVariable("VOTING_TEST_PIDS") is { Length: > 0 } file)
        {
            lock (typeof(ChildProcess))
            {
                File.AppendAllText(file, pid + Environment.NewLine);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
