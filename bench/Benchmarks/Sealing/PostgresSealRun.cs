using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Npgsql;
using NpgsqlTypes;
using Voting.Local;
using Voting.Local.Applications;
using Voting.Local.Servers;
using Voting.Local.Tls;
using Voting.Sealing.Manifest;
using Voting.Sealing.Postgres;

namespace Voting.Benchmarks.Sealing;

/// <summary>
/// The one-off run of a seal from a real PostgreSQL: a throw-away server on a free loopback port migrated by a real
/// worker silo, N rows loaded into <c>votes</c> by binary COPY, then the <see cref="Sealer"/> as the worker role, the
/// export written, and the real results app loading the seal and serving ballots.csv, each step timed (the apps must
/// be built: <c>dotnet build -c Release</c>). <c>dotnet run -c Release --project bench/Benchmarks -- postgres-seal 10000000</c>.
/// </summary>
internal static class PostgresSealRun
{
    public static async Task RunAsync(int count)
    {
        var scratch = Directory.CreateTempSubdirectory("voting-seal-pg.");
        // PostgreSQL runs as another user when this runs as root.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(scratch.FullName, (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit);
        }
        var roles = new PostgresRoles("bench-owner", "bench-worker", "bench-web", "bench-results", "bench-balancer");
        await using var postgres = await PostgresServer.StartAsync(new PostgresServerOptions
        {
            DataDirectory = Path.Combine(scratch.FullName, "data"),
            Port = FreePort.Next(),
            LogPath = Path.Combine(scratch.FullName, "postgres.log"),
            Durable = false,
            Roles = roles,
            DeleteOnDispose = true,
        });
        await postgres.CreateDatabaseAsync("voting");

        // A worker silo as production runs it: it migrates the schema as the owner role (and Orleans' tables), and it is
        // the cluster the results app joins as a client.
        var apps = new VotingApps(postgres.ConnectionString("voting"), scratch.FullName, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))
        {
            ManagementToken = ManagementToken.Generate(),
            Roles = roles,
            ClusterCertificate = ClusterCertificate.ReadOrCreate(Path.Combine(scratch.FullName, "cluster-tls")),
        };
        await using var worker = apps.StartWorker("worker01");
        await worker.WaitReadyAsync(TimeSpan.FromMinutes(2));

        var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString("voting", PostgresRoles.Worker)) { CommandTimeout = 0 };
        await using var database = NpgsqlDataSource.Create(builder.ConnectionString);
        var poll = new SyntheticPoll(count);
        var clock = Stopwatch.StartNew();
        await LoadAsync(database, poll);
        Console.WriteLine($"loaded {count:N0} rows into votes by COPY: {clock.Elapsed.TotalSeconds:F1} s");

        var keyPath = Path.Combine(scratch.FullName, "signing.key");
        File.WriteAllText(keyPath, SealSigningKey.CreatePem());
        using var key = SealSigningKey.FromPemFile(keyPath, "bench");
        var sealer = new Sealer(database, SyntheticPoll.PseudonymKey, key, TimeProvider.System);
        var before = GC.GetTotalAllocatedBytes();
        clock.Restart();
        var seal = await sealer.SealAsync(SyntheticPoll.Facts, CancellationToken.None);
        Console.WriteLine($"first seal (COPY out, pseudonyms, sort, tree, hash, sign, COPY into sealed_ballots, commit): {clock.Elapsed.TotalSeconds:F1} s; "
            + $"allocated {(GC.GetTotalAllocatedBytes() - before) / 1e9:F2} GB, working set {Environment.WorkingSet / 1e9:F2} GB");
        clock.Restart();
        await seal.WriteExportAsync(Path.Combine(scratch.FullName, "export"), CancellationToken.None);
        Console.WriteLine($"export written ({new FileInfo(Path.Combine(scratch.FullName, "export", "ballots.csv")).Length / 1e6:N0} MB ballots.csv): {clock.Elapsed.TotalSeconds:F1} s");
        clock.Restart();
        var again = await sealer.SealAsync(SyntheticPoll.Facts, CancellationToken.None);
        Console.WriteLine($"second seal (read back from sealed_ballots, tree checked): {clock.Elapsed.TotalSeconds:F1} s; same root: {again.Manifest.MerkleRoot == seal.Manifest.MerkleRoot}");
        Console.WriteLine($"root {seal.Manifest.MerkleRoot}, tallies {string.Join(", ", seal.Manifest.Tallies)}");

        await MeasureResultsAppAsync(apps, seal.Manifest);
        await worker.DisposeAsync();
        LocalDirectories.TryDelete(scratch.FullName);
    }

    /// <summary>
    /// The results app as production runs it (its own role, a client of the cluster), loading the seal: how long until
    /// it serves the final count, its resident memory then and at its peak, and again after ballots.csv was downloaded
    /// from it in full (streamed from the ballots in memory), whose SHA-256 must be the manifest's.
    /// </summary>
    private static async Task MeasureResultsAppAsync(VotingApps apps, SealManifest manifest)
    {
        var clock = Stopwatch.StartNew();
        await using var results = apps.StartResults("results", new Dictionary<string, string?>
        {
            ["Poll__Id"] = manifest.PollId,
            ["Results__SealRefreshInterval"] = "00:00:01",
        });
        await results.WaitReadyAsync(TimeSpan.FromMinutes(2));
        using var http = new HttpClient { BaseAddress = results.BaseAddress, Timeout = TimeSpan.FromMinutes(10) };
        while (true)
        {
            using var final = await http.GetAsync("api/results/final");
            if (final.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            if (final.StatusCode != HttpStatusCode.ServiceUnavailable || clock.Elapsed > TimeSpan.FromMinutes(15))
            {
                throw new InvalidOperationException($"the results app answered {(int)final.StatusCode} for the final count after {clock.Elapsed}");
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        var loaded = File.ReadLines(results.Launch.LogPath).LastOrDefault(line => line.Contains("Loaded the seal", StringComparison.Ordinal));
        Console.WriteLine($"results app: final count served {clock.Elapsed.TotalSeconds:F1} s after start ({loaded?.Trim()}); {Memory(results.Process.Id)}");

        clock.Restart();
        using var download = await http.GetAsync("api/results/final/ballots.csv", HttpCompletionOption.ResponseHeadersRead);
        download.EnsureSuccessStatusCode();
        await using var body = await download.Content.ReadAsStreamAsync();
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        long bytes = 0;
        for (int read; (read = await body.ReadAsync(buffer)) > 0; bytes += read)
        {
            sha256.AppendData(buffer, 0, read);
        }

        var matches = Convert.ToHexStringLower(sha256.GetHashAndReset()) == manifest.BallotsSha256;
        Console.WriteLine($"results app: ballots.csv downloaded ({bytes / 1e6:N0} MB, SHA-256 the manifest's: {matches}) in {clock.Elapsed.TotalSeconds:F1} s; {Memory(results.Process.Id)}");
    }

    /// <summary>A process's resident memory now and at its peak, from <c>/proc/{pid}/status</c>.</summary>
    private static string Memory(int pid)
    {
        var status = File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status");
        string Field(string name) => status.First(line => line.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..].Trim();
        return $"RSS {Field("VmRSS")}, peak {Field("VmHWM")}";
    }

    private static async Task LoadAsync(NpgsqlDataSource database, SyntheticPoll poll)
    {
        await using var connection = await database.OpenConnectionAsync();
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY votes (voter_id, option, voted_at, vote_id, frontend_id) FROM STDIN (FORMAT BINARY)");
        var votedAt = DateTime.UtcNow;
        for (var i = 0; i < poll.Voters.Length; i++)
        {
            await copy.StartRowAsync();
            await copy.WriteAsync(poll.Voters[i], NpgsqlDbType.Uuid);
            await copy.WriteAsync(SyntheticPoll.Facts.Options[poll.Options[i]], NpgsqlDbType.Text);
            await copy.WriteAsync(votedAt, NpgsqlDbType.TimestampTz);
            await copy.WriteAsync(poll.VoteIds[i], NpgsqlDbType.Uuid);
            await copy.WriteAsync(SyntheticPoll.FrontendOf(poll.FrontendIndexes[i]), NpgsqlDbType.Text);
        }

        await copy.CompleteAsync();
    }
}
