using System.Diagnostics;
using System.Text;

namespace Voting.Cli.Swarm;

/// <summary>What one <c>docker</c> command printed, and its exit code.</summary>
internal sealed record DockerResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>The output's lines, without empty ones.</summary>
    public IReadOnlyList<string> Lines => Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// The Docker engine through its command line: on this machine (<c>RunAsync</c>) or inside a Swarm node container
/// (<c>OnNodeAsync</c>: <c>docker exec NODE docker ...</c>).
/// </summary>
internal static class DockerCli
{
    /// <summary>Runs <c>docker</c> with the arguments; a failure throws with docker's own message unless <paramref name="check"/> is false.</summary>
    public static async Task<DockerResult> RunAsync(IEnumerable<string> arguments, bool check = true, string? input = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var list = arguments.ToArray();
        var info = new ProcessStartInfo("docker")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
        };
        foreach (var argument in list)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new CliException("docker did not start: is Docker installed?");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(10));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new CliException($"docker {Describe(list)} did not finish within {(timeout ?? TimeSpan.FromMinutes(10)).TotalSeconds:F0} s");
        }

        var result = new DockerResult(process.ExitCode, await output, await error);
        return check && !result.Succeeded
            ? throw new CliException($"docker {Describe(list)} failed (exit code {result.ExitCode}): {result.Error.Trim()}")
            : result;
    }

    public static Task<DockerResult> RunAsync(params string[] arguments) => RunAsync(arguments, check: true);

    /// <summary><c>docker exec NODE docker ...</c>: the engine of one Swarm node.</summary>
    public static Task<DockerResult> OnNodeAsync(string node, IEnumerable<string> arguments, bool check = true, string? input = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var exec = new List<string> { "exec" };
        if (input is not null)
        {
            exec.Add("-i");
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            exec.AddRange(["-e", $"{key}={value}"]);
        }

        return RunAsync([.. exec, node, "docker", .. arguments], check, input);
    }

    public static Task<DockerResult> OnNodeAsync(string node, params string[] arguments) => OnNodeAsync(node, arguments, check: true);

    /// <summary><c>docker save IMAGES | docker exec -i NODE docker load</c>: images onto a node, without a registry.</summary>
    public static async Task CopyImagesAsync(string node, IReadOnlyList<string> images)
    {
        using var save = Start(["save", .. images], redirectInput: false);
        using var load = Start(["exec", "-i", node, "docker", "load", "-q"], redirectInput: true);
        var saveErrors = save.StandardError.ReadToEndAsync();
        var loadOutput = load.StandardOutput.ReadToEndAsync();
        var loadErrors = load.StandardError.ReadToEndAsync();
        await save.StandardOutput.BaseStream.CopyToAsync(load.StandardInput.BaseStream);
        load.StandardInput.Close();
        await Task.WhenAll(save.WaitForExitAsync(), load.WaitForExitAsync());
        if (save.ExitCode != 0 || load.ExitCode != 0)
        {
            throw new CliException($"the images did not reach {node}: {(await saveErrors).Trim()} {(await loadErrors).Trim()} {(await loadOutput).Trim()}");
        }
    }

    private static Process Start(IEnumerable<string> arguments, bool redirectInput)
    {
        var info = new ProcessStartInfo("docker")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectInput,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new CliException("docker did not start: is Docker installed?");
    }

    private static string Describe(string[] arguments)
    {
        var text = new StringBuilder();
        foreach (var argument in arguments.Take(8))
        {
            text.Append(argument.Contains(' ', StringComparison.Ordinal) ? $"'{argument}'" : argument).Append(' ');
        }

        return text.ToString().TrimEnd() + (arguments.Length > 8 ? " ..." : "");
    }
}
