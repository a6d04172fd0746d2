using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Voting.Local.Processes;

/// <summary>
/// A program running as a process of its own — a server or one of the applications — as <c>./voting</c> and the
/// tests start them. It runs in a session of its own, so it outlives the command that started it
/// (<c>./voting up --detach</c>) and a Ctrl-C in the terminal reaches only that command, which stops everything in
/// order; its output is appended to a log file, which is also where <see cref="Tail"/> reads it.
/// </summary>
/// <remarks>
/// Every process started is also appended to the file named by <c>$VOTING_TEST_PIDS</c>, when set, so that
/// <c>./voting test</c> can end what a test host that died could not stop.
/// </remarks>
public sealed class LocalProcess : IAsyncDisposable
{
    /// <summary>Environment variable naming the file that records every process started (see the remarks).</summary>
    public const string PidsFileVariable = "VOTING_TEST_PIDS";

    // sh redirects the output and execs setsid, which (the shell not being a process group leader) execs the program
    // in a new session: the pid .NET started is the program's own, so waiting on it and signalling it reach the program.
    private const string Launcher = "log=$1; shift; exec setsid \"$@\" >>\"$log\" 2>&1 </dev/null";
    private static readonly Lock PidsFileLock = new();

    private readonly Process? _child;
    private readonly long _logStart;
    private int _disposed;
    // Once disposed, the child's handle is gone: what it said of the process is kept, and the pid answers the rest.
    private volatile bool _released;
    private int? _exitCode;

    private LocalProcess(string name, ProcessIdentity identity, string logPath, long logStart, Process? child)
    {
        Name = name;
        Identity = identity;
        LogPath = logPath;
        _logStart = logStart;
        _child = child;
    }

    public string Name { get; }

    public ProcessIdentity Identity { get; }

    public int Id => Identity.Pid;

    public string LogPath { get; }

    public bool HasExited => _child is null || _released ? !Identity.IsAlive() : _child.HasExited;

    /// <summary>The exit code of a process this one started, once it has ended; null before, or for a process found by its pid.</summary>
    public int? ExitCode => _released ? _exitCode : _child is { HasExited: true } child ? child.ExitCode : null;

    /// <summary>
    /// How the process ended, for failure messages: its exit code, and the signal when it was killed by one (.NET
    /// reports that as 128 + the signal's number) — a silent death reads very differently with "SIGSEGV" or "SIGKILL"
    /// next to it.
    /// </summary>
    public string HowItEnded => ExitCode switch
    {
        null => "ended",
        > 128 and < 160 and var code => $"ended with exit code {code.ToString(CultureInfo.InvariantCulture)} (killed by {Signals.Name(code - 128)})",
        var code => $"ended with exit code {code.Value.ToString(CultureInfo.InvariantCulture)}",
    };

    /// <summary>Completes when the process has ended.</summary>
    public Task Exited => _child?.WaitForExitAsync() ?? PollUntilExitedAsync();

    /// <summary>Starts <paramref name="program"/> with the given arguments and environment (added to this process's).</summary>
    public static LocalProcess Start(string name, string program, IEnumerable<string> arguments, string logPath,
        IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logPath))!);
        var logStart = File.Exists(logPath) ? new FileInfo(logPath).Length : 0;
        var info = new ProcessStartInfo("/bin/sh")
        {
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(Path.GetFullPath(logPath))!,
        };
        foreach (var argument in (string[])["-c", Launcher, "voting-launch", logPath, program, .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        var child = Process.Start(info) ?? throw new InvalidOperationException($"{name} did not start: {program}");
        // The start time is the process's, not its program's: read before or after the exec, it is the same.
        var identity = ProcessIdentity.Of(child.Id) ?? new ProcessIdentity(child.Id, -1);
        Remember(identity);
        return new LocalProcess(name, identity, logPath, logStart, child);
    }

    /// <summary>The process a previous command started, if it still runs.</summary>
    public static LocalProcess? Attach(string name, ProcessIdentity identity, string logPath) =>
        identity.IsAlive() ? new LocalProcess(name, identity, logPath, logStart: 0, child: null) : null;

    /// <summary>The last lines this process wrote to its log, for failure messages.</summary>
    public string Tail(int lines = 60)
    {
        const int MaxBytes = 256 * 1024;
        try
        {
            using var log = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var start = Math.Max(_logStart, log.Length - MaxBytes);
            log.Seek(start, SeekOrigin.Begin);
            using var reader = new StreamReader(log, Encoding.UTF8);
            var text = reader.ReadToEnd();
            return string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"(no output: {LogPath} cannot be read: {e.Message})";
        }
    }

    /// <summary>Sends <paramref name="signal"/>; false when the process has ended.</summary>
    public bool Signal(int signal) => !HasExited && Signals.Send(Id, signal);

    /// <summary>
    /// Asks the process to stop (<paramref name="signal"/>, SIGTERM unless said otherwise) and kills it if it has not
    /// within <paramref name="grace"/>. True when it stopped by itself.
    /// </summary>
    public async Task<bool> StopAsync(TimeSpan grace, int signal = Signals.Terminate)
    {
        if (!Signal(signal))
        {
            return true;
        }

        try
        {
            await Exited.WaitAsync(grace);
            return true;
        }
        catch (TimeoutException)
        {
            KillNow();
            await Exited.WaitAsync(TimeSpan.FromSeconds(30));
            return false;
        }
    }

    /// <summary><c>kill -9</c>: no chance to clean up.</summary>
    public void KillNow() => Signal(Signals.Kill);

    /// <summary>
    /// <c>kill -9</c> of the process and of every process it started that stayed in its process group (a server's
    /// workers): the process leads its own session, so its group is its pid.
    /// </summary>
    public void KillGroupNow()
    {
        if (!HasExited)
        {
            Signals.Send(-Id, Signals.Kill);
        }
    }

    /// <summary>
    /// Stops the process (as <see cref="StopAsync"/>, 10 s of grace); again is nothing. Afterwards it still says
    /// whether the process runs and how it ended.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopAsync(TimeSpan.FromSeconds(10));
        _exitCode = ExitCode;
        _released = true;
        _child?.Dispose();
    }

    private async Task PollUntilExitedAsync()
    {
        while (Identity.IsAlive())
        {
            await Task.Delay(50);
        }
    }

    private static void Remember(ProcessIdentity identity)
    {
        if (Environment.GetEnvironmentVariable(PidsFileVariable) is { Length: > 0 } file)
        {
            lock (PidsFileLock)
            {
                File.AppendAllText(file, string.Create(CultureInfo.InvariantCulture, $"{identity.Pid} {identity.StartTime}\n"));
            }
        }
    }
}
