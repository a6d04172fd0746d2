namespace Voting.Local.Servers;

/// <summary>Where PostgreSQL's server programs are: <c>$VOTING_PG_BIN</c>, else Debian's newest <c>/usr/lib/postgresql/N/bin</c>.</summary>
public static class PostgresBinaries
{
    public const string DirectoryVariable = "VOTING_PG_BIN";

    /// <summary>True when the server programs can be found.</summary>
    public static bool Installed => Find() is not null;

    /// <summary>The major version of the server programs found (15 for <c>/usr/lib/postgresql/15/bin</c>), or null.</summary>
    public static int? MajorVersion =>
        Find() is { } bin && int.TryParse(Path.GetFileName(Path.GetDirectoryName(bin)), out var major) ? major : null;

    /// <summary>True when the extension <paramref name="name"/> is installed for these server programs.</summary>
    public static bool HasExtension(string name)
    {
        if (Find() is not { } bin || !File.Exists(Path.Combine(bin, "pg_config")))
        {
            return false;
        }

        using var pgConfig = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Path.Combine(bin, "pg_config"), "--sharedir")
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var share = pgConfig.StandardOutput.ReadToEnd().Trim();
        pgConfig.WaitForExit();
        return File.Exists(Path.Combine(share, "extension", name + ".control"));
    }

    public static string Directory() => Find()
        ?? throw new InvalidOperationException($"PostgreSQL server binaries not found: install postgresql (./voting does) or set {DirectoryVariable}.");

    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured)
        {
            return configured;
        }

        return System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var major) ? major : 0)
                .FirstOrDefault()
            : null;
    }
}
