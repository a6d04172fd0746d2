using System.CommandLine;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary>The argument that names one of the processes <c>./voting</c> runs.</summary>
internal static class Components
{
    public static Argument<string> NameArgument(string description)
    {
        var name = new Argument<string>("name") { Description = description };
        name.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is null || !ComponentRecord.IsName(value))
            {
                result.AddError($"'{value}' is not a process ./voting runs: postgres (pgmonitor, postgres01, postgres02 with --postgres-ha), redisNN, workerNN, frontendNN, results or balancer.");
            }
        });
        return name;
    }
}
