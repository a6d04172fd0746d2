namespace Voting.Testing;

/// <summary>Where tests keep their servers' data and logs, and where the repository and its build outputs are.</summary>
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
    public static string Repository { get; } = FindRepository();

    /// <summary>The build configuration the tests were built in; the applications are built in the same one.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The built entry assembly of one of the applications, e.g. <c>Application("Web", "Voting.Web")</c>.</summary>
    public static string Application(string folder, string assemblyName)
    {
        var path = Path.Combine(Repository, "src", folder, "bin", Configuration, "net10.0", assemblyName + ".dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{assemblyName} is not built in {Configuration}; build the solution first (./voting test does).", path);
    }

    private static string FindRepository()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Voting.Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("The tests must run from inside the repository (no Voting.Orleans.sln above " + AppContext.BaseDirectory + ").");
    }
}
