using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Voting.Cli.Installing;
using Voting.Cli.Local;
using Voting.Cli.Testing;
using Voting.Local;
using Voting.Local.Processes;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting test [dotnet test options]</c>: installs what the tests need and runs every test project of the
/// (built) solution; ends with the line <c>N passed, N failed, N skipped</c> counted from the platform's results.
/// </summary>
internal static class TestCommand
{
    public static Command Create()
    {
        var command = new Command("test",
            "install what is missing and run every test; prints \"N passed, N failed, N skipped\". Other options go to dotnet test, e.g. --filter FullyQualifiedName~Failover");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, _) => RunAsync(parse.UnmatchedTokens));
        return command;
    }

    private static async Task<int> RunAsync(IReadOnlyList<string> options)
    {
        var output = Console.Out;
        var settings = LocalSettings.FromEnvironment();
        await DebianPackages.EnsureAsync(output, [.. Requirement.Servers, Requirement.PostgresHa, Requirement.RedisTools, Requirement.Chromium, Requirement.Docker, Requirement.Debootstrap]);
        var results = Path.Combine(settings.Data, "test-results");
        if (Directory.Exists(results))
        {
            Directory.Delete(results, recursive: true);
        }

        Directory.CreateDirectory(results);
        // The tests' servers keep their data here; PostgreSQL runs as another user, so anyone may write in it.
        var scratch = Directory.CreateTempSubdirectory("voting-tests.");
        File.SetUnixFileMode(scratch.FullName, (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit);
        var pids = Path.Combine(scratch.FullName, "pids");
        var status = 0;
        try
        {
            // The Swarm suite runs on its own, after the rest: its nodes would take the two cores from the other tests.
            // With options of the caller's (a filter, say), one run does as they say.
            (string Title, string[] Options)[] phases = options.Count > 0
                ? [("Running the tests...", [.. options])]
                : [("Running the tests (all but the Swarm suite)...", ["--filter", "Category!=Swarm"]),
                   ("Running the Swarm suite (tests/EndToEnd/Swarm: a real Swarm of Docker-in-Docker nodes)...", ["--filter", "Category=Swarm"])];
            foreach (var (title, phase) in phases)
            {
                output.WriteLine(title);
                var info = new ProcessStartInfo("dotnet") { UseShellExecute = false };
                foreach (var argument in (string[])["test", Path.Combine(Repository.Root, "Voting.Orleans.sln"), "-c", Repository.Configuration, "--no-build", "-nologo",
                    "--logger", "trx", "--logger", "console;verbosity=normal", "--results-directory", results, .. phase])
                {
                    info.ArgumentList.Add(argument);
                }

                info.Environment["VOTING_TEST_TMP"] = scratch.FullName;
                info.Environment[LocalProcess.PidsFileVariable] = pids;
                using var test = Process.Start(info) ?? throw new CliException("dotnet test did not start");
                await test.WaitForExitAsync();
                status = status != 0 ? status : test.ExitCode;
            }
        }
        finally
        {
            EndLeftovers(pids);
            LocalDirectories.TryDelete(scratch.FullName);
        }

        var report = TrxResults.Read(Directory.GetFiles(results, "*.trx"));
        if (report.Failed > 0)
        {
            // Which tests failed and why, once more at the end, where a CI log's tail shows it.
            output.WriteLine();
            output.WriteLine("Failed tests:");
            foreach (var line in report.DescribeFailures())
            {
                output.WriteLine(line);
            }
        }

        // A test host that crashed leaves no counters: that is a failure, never a silent pass.
        if (status != 0 && report.Failed == 0)
        {
            report = report with { Failed = 1 };
        }

        output.WriteLine();
        output.WriteLine(report.Summary);
        return status;
    }

    /// <summary>Ends the servers and applications a crashed test host could not stop: each still the process it was.</summary>
    private static void EndLeftovers(string pids)
    {
        if (!File.Exists(pids))
        {
            return;
        }

        foreach (var line in File.ReadLines(pids))
        {
            var fields = line.Split(' ');
            if (fields.Length == 2
                && int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && long.TryParse(fields[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var startTime)
                && new ProcessIdentity(pid, startTime).IsAlive())
            {
                // Its group too: each leads a session of its own, and a pg_autoctl keeper's PostgreSQL is in its group.
                Signals.Send(-pid, Signals.Kill);
                Signals.Send(pid, Signals.Kill);
            }
        }
    }
}
