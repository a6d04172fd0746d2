namespace Voting.Local.Servers;

/// <summary>The <c>postgres</c> user PostgreSQL's programs run as when this process is root: they refuse to run as root.</summary>
internal static class PostgresUser
{
    public const string Name = "postgres";

    public static bool IsRoot => Environment.UserName == "root";

    /// <summary><c>setpriv</c> execs the program as the user without forking, so the pid stays the server's.</summary>
    public static readonly string[] SetprivArguments = ["--reuid=" + Name, "--regid=" + Name, "--init-groups", "--"];

    public static async Task TakeOwnershipAsync(string directory)
    {
        using var chown = System.Diagnostics.Process.Start("chown", [$"{Name}:{Name}", directory])
            ?? throw new InvalidOperationException("chown did not start");
        await chown.WaitForExitAsync();
        if (chown.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown {Name} {directory} failed (is PostgreSQL installed? Its package creates the {Name} user).");
        }
    }
}
