using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;
using Voting.Local;
using Voting.Local.Servers;
using Voting.Sealing.Manifest;
using Voting.Sealing.Postgres;

namespace Voting.Benchmarks.Sealing;

/// <summary>
/// The one-off run of a seal from a real PostgreSQL: a throw-away server on a free loopback port, N rows loaded into
/// <c>votes</c> by binary COPY, then the <see cref="Sealer"/> as the worker role and the export written, each step
/// timed. <c>dotnet run -c Release --project bench/Benchmarks -- postgres-seal 10000000</c>.
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
        await using (var owner = NpgsqlDataSource.Create(postgres.ConnectionString("voting", PostgresRoles.Owner)))
        {
            // The schema's scripts as they are (Voting.Storage itself would bring Orleans' analyzers into this project);
            // 0003 grants on the table that records them.
            await using (var record = owner.CreateCommand("CREATE TABLE schema_migrations (component text, version int)"))
            {
                await record.ExecuteNonQueryAsync();
            }

            foreach (var script in Directory.GetFiles(Path.Combine(Repository.Root, "src", "Storage", "Postgres", "Migrations"), "*.sql").Order(StringComparer.Ordinal))
            {
                await using var migrate = owner.CreateCommand(File.ReadAllText(script));
                await migrate.ExecuteNonQueryAsync();
            }
        }

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
        LocalDirectories.TryDelete(scratch.FullName);
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
