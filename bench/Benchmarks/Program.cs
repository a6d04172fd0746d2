using System.Globalization;
using BenchmarkDotNet.Running;
using Voting.Benchmarks.Sealing;

// dotnet run -c Release --project bench/Benchmarks -- --filter '*Seal*' (docs/PERFORMANCE.md);
// ... -- postgres-seal 10000000: the one-off seal from a real PostgreSQL.
if (args is ["postgres-seal", var count])
{
    await PostgresSealRun.RunAsync(int.Parse(count, CultureInfo.InvariantCulture));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
