using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Voting.Sealing;
using Voting.Sealing.Manifest;

namespace Voting.Benchmarks.Sealing;

/// <summary>
/// Sealing ten million ballots, all of it but reading PostgreSQL: pseudonyms, the canonical sort, the tree, the
/// ballots file's hash, the signature, and the export written to a file. One cold run: it takes long enough that
/// BenchmarkDotNet's repetitions would only cost minutes of a shared machine.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 0, iterationCount: 2)]
public class SealBenchmarks
{
    private SyntheticPoll _poll = null!;
    private SealSigningKey _key = null!;
    private string _directory = null!;

    [Params(10_000_000)]
    public int Ballots { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _poll = new SyntheticPoll(Ballots);
        _directory = Directory.CreateTempSubdirectory("voting-seal-bench.").FullName;
        var keyPath = Path.Combine(_directory, "signing.key");
        File.WriteAllText(keyPath, SealSigningKey.CreatePem());
        _key = SealSigningKey.FromPemFile(keyPath, "bench");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _key.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public async Task<string> SealAndExport()
    {
        var seal = await Seal.CreateAsync(SyntheticPoll.Facts, _poll.Ballots(), _key, DateTimeOffset.UtcNow, CancellationToken.None);
        await seal.WriteExportAsync(Path.Combine(_directory, "export"), CancellationToken.None);
        return seal.Manifest.MerkleRoot;
    }
}
