using System.Diagnostics;
using Voting.Cli.Installing;
using Voting.Local.Processes;

namespace Voting.Cli.Swarm;

/// <summary>
/// This machine's Docker engine: the one that runs, or one <c>./voting swarm</c> starts (there is no systemd here) and
/// remembers in <c>swarm/dockerd.pid</c>, to stop it again on <c>swarm down</c>. An engine it did not start it leaves be.
/// </summary>
internal sealed class DockerEngine(string directory, TextWriter output)
{
    private string PidFile => Path.Combine(directory, "dockerd.pid");

    private string LogPath => Path.Combine(directory, "dockerd.log");

    public static async Task<bool> AnswersAsync() =>
        (await DockerCli.RunAsync(["info", "--format", "{{.ServerVersion}}"], check: false, timeout: TimeSpan.FromSeconds(20))).Succeeded;

    /// <summary>Installs Docker (and debootstrap, for the base image) if needed and makes sure an engine answers.</summary>
    public async Task EnsureRunningAsync()
    {
        await DebianPackages.EnsureAsync(output, Requirement.Docker, Requirement.Debootstrap);
        if (await AnswersAsync())
        {
            return;
        }

        Directory.CreateDirectory(directory);
        output.WriteLine($"Starting the Docker engine (log: {LogPath})...");
        var dockerd = LocalProcess.Start("dockerd", "dockerd", [], LogPath);
        File.WriteAllText(PidFile, $"{dockerd.Identity.Pid} {dockerd.Identity.StartTime}");
        var watch = Stopwatch.StartNew();
        while (!await AnswersAsync())
        {
            if (dockerd.HasExited || watch.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new CliException($"the Docker engine did not start:\n{dockerd.Tail(20)}");
            }

            await Task.Delay(500);
        }
    }

    /// <summary>Stops the engine if <c>./voting swarm</c> started it.</summary>
    public async Task StopIfOursAsync()
    {
        if (!File.Exists(PidFile))
        {
            return;
        }

        var fields = File.ReadAllText(PidFile).Split(' ');
        if (fields.Length == 2 && int.TryParse(fields[0], out var pid) && long.TryParse(fields[1], out var startTime)
            && LocalProcess.Attach("dockerd", new ProcessIdentity(pid, startTime), LogPath) is { } dockerd)
        {
            output.WriteLine("Stopping the Docker engine ./voting swarm started...");
            await dockerd.StopAsync(TimeSpan.FromSeconds(30));
        }

        File.Delete(PidFile);
    }
}
