namespace Voting.Local;

/// <summary>Where the repository is, and the built applications in it.</summary>
public static class Repository
{
    /// <summary>The repository root: the directory that holds <c>Voting.Orleans.sln</c>, found above this assembly.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// The build configuration this assembly was built in (<c>Release</c> or <c>Debug</c>); the applications it starts
    /// are taken from the same one.
    /// </summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    /// <summary>The built entry assembly of one of the applications, e.g. <c>Application("Web", "Voting.Web")</c>.</summary>
    public static string Application(string folder, string assemblyName)
    {
        var path = Path.Combine(Root, "src", folder, "bin", Configuration, "net10.0", assemblyName + ".dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{assemblyName} is not built in {Configuration}; build the solution first (./voting does).", path);
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Voting.Orleans.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Voting.Local must run from inside the repository (no Voting.Orleans.sln above " + AppContext.BaseDirectory + ").");
    }
}
