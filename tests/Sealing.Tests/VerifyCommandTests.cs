using System.Diagnostics;
using Voting.Local;
using Voting.Sealing.Export;

namespace Voting.Sealing.Tests;

/// <summary><c>./voting verify DIR</c> as a user runs it: its exit code and what it prints.</summary>
public sealed class VerifyCommandTests
{
    private static readonly string Cli = Path.Combine(Repository.Root, "tools", "Cli", "bin", Repository.Configuration, "net10.0", "voting.dll");

    [Fact]
    public async Task AValidExportExitsWithZeroAndPrintsTheCount()
    {
        var export = await TestSeals.ExportAsync();

        var (exitCode, output, error) = await RunAsync("verify", export);

        Assert.True(exitCode == 0, output + error);
        Assert.Contains("verifies", output, StringComparison.Ordinal);
        Assert.Contains("  cats: 14", output, StringComparison.Ordinal);
        Assert.Contains("  dogs: 26", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATamperedExportExitsWithOneAndNamesTheProblem()
    {
        var export = await TestSeals.ExportAsync();
        var ballots = Path.Combine(export, BallotsCsv.FileName);
        var lines = File.ReadAllText(ballots).Split("\r\n");
        lines[2] = lines[2].Contains(",dogs,", StringComparison.Ordinal)
            ? lines[2].Replace(",dogs,", ",cats,", StringComparison.Ordinal)
            : lines[2].Replace(",cats,", ",dogs,", StringComparison.Ordinal);
        File.WriteAllText(ballots, string.Join("\r\n", lines));

        var (exitCode, output, error) = await RunAsync("verify", export);

        Assert.Equal(1, exitCode);
        Assert.Contains("voting: the tally for 'cats' is 14 in the manifest, ", error, StringComparison.Ordinal);
        Assert.Contains("does NOT verify", error, StringComparison.Ordinal);
        Assert.DoesNotContain("verifies", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoSuchDirectoryExitsWithOne()
    {
        var (exitCode, _, error) = await RunAsync("verify", Path.Combine(Path.GetTempPath(), "no-such-export-" + Guid.NewGuid()));

        Assert.Equal(1, exitCode);
        Assert.Contains("is not a directory", error, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[Cli, .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("voting did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await output, await error);
    }
}
