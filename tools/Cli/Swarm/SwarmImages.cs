using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Voting.Local;

namespace Voting.Cli.Swarm;

/// <summary>
/// The images of <c>deploy/swarm</c>, built from what this machine reaches — Debian's packages and NuGet — with no
/// image registry: a Debian bookworm root file system made by <c>debootstrap</c> and imported
/// (<c>voting/debian:bookworm</c>), the four applications published self-contained on this machine, and every target
/// of <c>deploy/swarm/Dockerfile</c> built on that base. All images carry one tag, a digest of their ids, so a stack
/// deployed with it changes exactly when an image did.
/// </summary>
internal sealed class SwarmImages(string directory, TextWriter output)
{
    public const string Base = "voting/debian:bookworm";

    /// <summary>The Dockerfile's targets, each built as <c>voting/{target}</c>.</summary>
    public static readonly string[] Targets = ["node", "web", "silo", "results", "balancer", "redis", "postgres", "tunnel"];

    private static readonly (string Folder, string Assembly)[] Applications =
        [("Web", "Voting.Web"), ("Silo", "Voting.Silo"), ("Results", "Voting.Results"), ("Balancer", "Voting.Balancer")];

    private string TagFile => Path.Combine(directory, "images.tag");

    public static string Image(string target, string tag) => $"voting/{target}:{tag}";

    /// <summary>The tag of the images built last, or null when none were.</summary>
    public string? LastTag => File.Exists(TagFile) ? File.ReadAllText(TagFile).Trim() : null;

    /// <summary>Builds every image (Docker's cache keeps what did not change) and returns their tag.</summary>
    public async Task<string> BuildAsync()
    {
        var watch = Stopwatch.StartNew();
        await EnsureBaseAsync();
        var context = Path.Combine(directory, "build");
        if (Directory.Exists(context))
        {
            Directory.Delete(context, recursive: true);
        }

        Directory.CreateDirectory(context);
        foreach (var (folder, assembly) in Applications)
        {
            output.WriteLine($"  publishing {assembly} (self-contained, linux-x64)");
            await RunAsync("dotnet", ["publish", Path.Combine(Repository.Root, "src", folder, assembly + ".csproj"), "-c", "Release",
                "-r", "linux-x64", "--self-contained", "-nologo", "-v", "quiet", "-o", Path.Combine(context, "apps", folder)]);
        }

        foreach (var entrypoint in (string[])["redis", "postgres"])
        {
            CopyDirectory(Path.Combine(Repository.Root, "deploy", "swarm", entrypoint), Path.Combine(context, entrypoint));
        }
        var ids = new StringBuilder();
        foreach (var target in Targets)
        {
            output.WriteLine($"  building {Image(target, "build")}");
            await DockerCli.RunAsync(["build", "-q", "-f", Path.Combine(Repository.Root, "deploy", "swarm", "Dockerfile"), "--target", target,
                "--build-arg", "BASE_IMAGE=" + Base, "-t", Image(target, "build"), context]);
            ids.Append((await DockerCli.RunAsync("image", "inspect", "--format", "{{.Id}}", Image(target, "build"))).Output.Trim());
        }

        var tag = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(ids.ToString())))[..12];
        foreach (var target in Targets)
        {
            await DockerCli.RunAsync("tag", Image(target, "build"), Image(target, tag));
            await DockerCli.RunAsync("tag", Image(target, "build"), Image(target, "latest"));
        }

        await File.WriteAllTextAsync(TagFile, tag);
        output.WriteLine($"Images built in {watch.Elapsed.TotalSeconds:F0} s, tag {tag}: {string.Join(", ", Targets.Select(t => "voting/" + t))}");
        return tag;
    }

    /// <summary>Removes every image these builds made (<c>voting/*</c>), the base included.</summary>
    public static async Task RemoveAllAsync()
    {
        var images = (await DockerCli.RunAsync(["images", "--filter", "reference=voting/*", "--format", "{{.Repository}}:{{.Tag}}"], check: false)).Lines;
        if (images.Count > 0)
        {
            await DockerCli.RunAsync(["rmi", "-f", .. images], check: false);
        }
    }

    /// <summary>The Debian base: <c>debootstrap --variant=minbase bookworm</c> from apt's own Debian mirror, imported.</summary>
    private async Task EnsureBaseAsync()
    {
        if ((await DockerCli.RunAsync(["image", "inspect", Base], check: false)).Succeeded)
        {
            return;
        }

        var mirror = DebianMirror.Find();
        var root = Path.Combine(directory, "rootfs");
        output.WriteLine($"  making {Base} with debootstrap from {mirror} (about a minute)");
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        await RunAsync("debootstrap", ["--variant=minbase", "bookworm", root, mirror]);
        foreach (var leftover in (string[])["var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale"])
        {
            var path = Path.Combine(root, leftover);
            if (Directory.Exists(path))
            {
                foreach (var entry in new DirectoryInfo(path).EnumerateFileSystemInfos())
                {
                    if (entry is DirectoryInfo folder)
                    {
                        folder.Delete(recursive: true);
                    }
                    else if (entry.Name != "lock" && entry.Name != "partial")
                    {
                        entry.Delete();
                    }
                }
            }
        }

        await RunAsync("sh", ["-c", "tar -C \"$0\" -c . | docker import - \"$1\" >/dev/null", root, Base]);
        Directory.Delete(root, recursive: true);
    }

    private static async Task RunAsync(string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new CliException($"{program} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            var text = ((await stdout) + (await stderr)).Trim().Split('\n').TakeLast(20);
            throw new CliException($"{program} failed (exit code {process.ExitCode}):\n{string.Join('\n', text)}");
        }
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
        {
            var target = Path.Combine(destination, Path.GetFileName(file));
            File.Copy(file, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }
}

/// <summary>The Debian mirror apt uses on this machine (Debian's own sources, never a host name of ours).</summary>
internal static class DebianMirror
{
    public static string Find()
    {
        var candidates = new List<string>();
        foreach (var file in Directory.Exists("/etc/apt/sources.list.d") ? Directory.GetFiles("/etc/apt/sources.list.d", "*.sources") : [])
        {
            // deb822: "URIs: http://deb.debian.org/debian" in a stanza whose Suites name bookworm.
            foreach (var stanza in File.ReadAllText(file).Split("\n\n"))
            {
                var lines = stanza.Split('\n').Select(l => l.Trim()).Where(l => !l.StartsWith('#')).ToArray();
                var uris = lines.FirstOrDefault(l => l.StartsWith("URIs:", StringComparison.Ordinal))?[5..].Trim();
                var suites = lines.FirstOrDefault(l => l.StartsWith("Suites:", StringComparison.Ordinal))?[7..].Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [];
                if (uris is not null && suites.Contains("bookworm"))
                {
                    candidates.AddRange(uris.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                }
            }
        }

        if (File.Exists("/etc/apt/sources.list"))
        {
            // One-line format: "deb http://deb.debian.org/debian bookworm main".
            candidates.AddRange(File.ReadLines("/etc/apt/sources.list")
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(f => f.Length >= 3 && f[0] == "deb" && f.Contains("bookworm"))
                .SelectMany(f => f.Skip(1).Where(t => t.StartsWith("http", StringComparison.Ordinal)).Take(1)));
        }

        return candidates.FirstOrDefault(u => u.Contains("/debian", StringComparison.Ordinal) && !u.Contains("security", StringComparison.Ordinal))
            ?? throw new CliException("no Debian bookworm mirror found in apt's sources (/etc/apt/sources.list.d/*.sources, /etc/apt/sources.list)");
    }
}
