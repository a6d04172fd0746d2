using System.Globalization;

namespace Voting.Local.Processes;

/// <summary>
/// A process as the kernel knows it: its pid and when it started (clock ticks since boot, <c>/proc/PID/stat</c>).
/// A pid alone can be reused once the process ended; together they name one process for good, so a later command
/// never signals a stranger that happens to have an old pid.
/// </summary>
public readonly record struct ProcessIdentity(int Pid, long StartTime)
{
    /// <summary>The process that has <paramref name="pid"/> now, or null when there is none.</summary>
    public static ProcessIdentity? Of(int pid) => Read(pid) is { } stat ? new ProcessIdentity(pid, stat.StartTime) : null;

    /// <summary>True while this very process exists and has not ended (a zombie has ended).</summary>
    public bool IsAlive() => Read(Pid) is { } stat && stat.StartTime == StartTime && stat.State != 'Z' && stat.State != 'X';

    private static (char State, long StartTime)? Read(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so the fields start after the last ')'.
        // The start time is field 22, the 20th after comm.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var startTime)
            ? (fields[0][0], startTime)
            : null;
    }
}
