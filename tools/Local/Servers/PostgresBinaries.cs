namespace Voting.Local.Servers;

/// <summary>Where PostgreSQL's server programs are: <c>$VOTING_PG_BIN</c>, else Debian's newest <c>/usr/lib/postgresql/N/bin</c>.</summary>
public static class PostgresBinaries
{
    public const string DirectoryVariable = "VOTING_PG_BIN";

    /// <summary>True when the server programs can be found.</summary>
    public static bool Installed => Find() is not null;

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
