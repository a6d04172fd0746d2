using System.Diagnostics;
using Voting.Local.Servers;

namespace Voting.Cli.Installing;

/// <summary>A Debian package a command needs, and how to tell that it is installed.</summary>
/// <param name="Package">The Debian package (or packages, separated by spaces) that provide it.</param>
/// <param name="IsInstalled">True when it is there already.</param>
internal sealed record Requirement(string Package, Func<bool> IsInstalled)
{
    public static readonly Requirement RedisServer = Command("redis-server", "redis-server");
    public static readonly Requirement RedisTools = Command("redis-cli", "redis-tools");
    public static readonly Requirement Postgres = new("postgresql", () => PostgresBinaries.Installed);
    /// <summary>pg_auto_failover for the installed PostgreSQL (its extension) and its pg_autoctl.</summary>
    public static readonly Requirement PostgresHa = new(
        $"postgresql-{PostgresBinaries.MajorVersion ?? 15}-auto-failover pg-auto-failover-cli",
        () => File.Exists("/usr/bin/pg_autoctl") && PostgresBinaries.HasExtension("pgautofailover"));
    public static readonly Requirement Chromium = new("chromium", () => File.Exists("/usr/bin/chromium"));
    public static readonly Requirement Wrk = Command("wrk", "wrk");
    public static readonly Requirement Jq = Command("jq", "jq");
    public static readonly Requirement Curl = Command("curl", "curl");
    public static readonly Requirement Docker = Command("dockerd", "docker.io");
    public static readonly Requirement Debootstrap = Command("debootstrap", "debootstrap");

    /// <summary>What every command that starts the system needs.</summary>
    public static readonly Requirement[] Servers = [RedisServer, Postgres];

    private static Requirement Command(string program, string package) => new(package, () => OnPath(program));

    // The system directories too: a user's PATH may lack the sbin ones, where dockerd and debootstrap are.
    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
            .Any(directory => File.Exists(Path.Combine(directory, program)));
}

/// <summary>Installs what a command needs from Debian's packages (as root, or through sudo).</summary>
internal static class DebianPackages
{
    public static async Task EnsureAsync(TextWriter output, params IEnumerable<Requirement> requirements)
    {
        var missing = requirements.Where(r => !r.IsInstalled()).SelectMany(r => r.Package.Split(' ')).Distinct().ToArray();
        if (missing.Length == 0)
        {
            return;
        }

        output.WriteLine($"Installing {string.Join(' ', missing)} from Debian packages...");
        await AptGetAsync(["update", "-qq"]);
        await AptGetAsync(["install", "-y", "-qq", .. missing]);
        // The packages may start their own Redis and PostgreSQL on the default ports; ours use their own ports.
    }

    private static async Task AptGetAsync(IEnumerable<string> arguments)
    {
        var root = Environment.UserName == "root";
        var info = new ProcessStartInfo(root ? "apt-get" : "sudo") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var argument in root ? arguments : ["apt-get", .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info) ?? throw new CliException("apt-get did not start.");
        // apt-get's progress is noise here; its errors go to the terminal.
        _ = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new CliException($"apt-get {string.Join(' ', arguments)} failed (exit code {process.ExitCode}).");
        }
    }
}
