using System.CommandLine;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting load [options]</c>: the verifying load tool (tools/LoadGen) against what runs — simulated voters over
/// every running front end, or through the load balancer — ending with the audit of every acknowledged vote. The
/// run's receipts are kept in <see cref="ReceiptsFile"/>, for <c>./voting receipts</c> once the poll is sealed.
/// </summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var throughBalancer = new Option<bool>("--through-balancer") { Description = "every voter goes through the load balancer instead of straight to a front end" };
        var command = new Command("load",
            "run the verifying load tool against what ./voting up started: simulated voters over every running front end, then an audit of " +
            "every acknowledged vote. Other options are the load tool's (tools/LoadGen/README.md), e.g. --voters 20000 --rate 500.")
        {
            throughBalancer,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, _) =>
        {
            var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
            return LoadGen.LoadCommand.RunAsync(Arguments(system, parse.GetValue(throughBalancer), parse.UnmatchedTokens), Console.Out, Console.Error);
        });
        return command;
    }

    /// <summary>The load tool's arguments for the running system; the caller's own come last, and later ones win.</summary>
    public static IReadOnlyList<string> Arguments(LocalSystem system, bool throughBalancer, IEnumerable<string> options)
    {
        if (!system.IsRunning("worker01"))
        {
            throw new CliException("nothing runs: start with ./voting up");
        }

        string frontends;
        if (system.Tls)
        {
            // The front ends require HTTPS, which only the balancer serves: every voter goes through it, trusting its certificate.
            frontends = system.IsRunning("balancer") ? system.HttpsUrl.ToString() : throw new CliException("the load balancer does not run");
            options = ["--ca", system.Certificate().CertificatePath, .. options];
        }
        else if (throughBalancer)
        {
            frontends = system.IsRunning("balancer") ? system.Find("balancer")!.Url.ToString() : throw new CliException("the load balancer does not run");
        }
        else
        {
            frontends = string.Join(',', system.Components().Where(c => c.Kind is ComponentKind.Frontend && c.Process.IsAlive()).Select(c => c.Url.ToString()));
        }

        return ["--frontends", frontends, "--results", ResultsUrl(system), "--postgres", system.ConnectionString, "--receipts", ReceiptsFile(system), .. options];
    }

    /// <summary>Where <c>./voting load</c> keeps the last run's receipts: <c>load-receipts.csv</c> in the data directory.</summary>
    public static string ReceiptsFile(LocalSystem system) => Path.Combine(system.Settings.Data, "load-receipts.csv");

    /// <summary>The results app of the running system (over HTTPS after <c>up --tls</c>).</summary>
    public static string ResultsUrl(LocalSystem system) =>
        system.Tls ? system.ResultsUrl.ToString() : system.Find("results") is { } record ? record.Url.ToString() : system.ResultsUrl.ToString();
}
