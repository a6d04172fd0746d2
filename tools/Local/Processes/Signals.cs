using System.Globalization;
using System.Runtime.InteropServices;

namespace Voting.Local.Processes;

/// <summary>The POSIX signals the local system sends, and <c>kill(2)</c> to send them.</summary>
public static partial class Signals
{
    /// <summary>SIGINT: PostgreSQL's fast shutdown.</summary>
    public const int Interrupt = 2;

    /// <summary>SIGQUIT: PostgreSQL's immediate shutdown, as a crash would end it.</summary>
    public const int Quit = 3;

    /// <summary>SIGKILL: no chance to clean up.</summary>
    public const int Kill = 9;

    /// <summary>SIGTERM: stop gracefully.</summary>
    public const int Terminate = 15;

    /// <summary>The signal's name and number, <c>SIGSEGV (signal 11)</c>, for messages.</summary>
    public static string Name(int signal) => signal switch
    {
        1 => "SIGHUP",
        Interrupt => "SIGINT",
        Quit => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        Kill => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        Terminate => "SIGTERM",
        _ => "a signal",
    } + " (signal " + signal.ToString(CultureInfo.InvariantCulture) + ")";

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when there is no such process.</summary>
    public static bool Send(int pid, int signal) => SendSignal(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
