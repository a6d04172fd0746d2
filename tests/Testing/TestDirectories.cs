namespace Voting.Testing;

/// <summary>Where tests keep their servers' data and logs, and where the repository is.</summary>
public static class TestDirectories
{
    private static readonly Lazy<string> RootDirectory = new(() =>
    {
        var root = Environment.GetEnvironmentVariable("VOTING_TEST_TMP") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Path.GetTempPath(), "voting-tests");
        Directory.CreateDirectory(root);
        return root;
    });

    /// <summary>A new, empty directory for one server or test, readable by other users (PostgreSQL runs as postgres).</summary>
    public static string Create(string name)
    {
        var path = Path.Combine(RootDirectory.Value, $"{name}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(path);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(RootDirectory.Value, (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit);
            File.SetUnixFileMode(path, (UnixFileMode)0b111_111_111);
        }

        return path;
    }

    /// <summary>The repository root: the directory that holds <c>Voting.Orleans.sln</c>.</summary>
    public static string Repository => Voting.Local.Repository.Root;
}
