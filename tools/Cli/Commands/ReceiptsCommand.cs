using System.CommandLine;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting receipts [--from FILE] [options]</c>: the load tool's receipts check (tools/LoadGen) against the running
/// results app, once the poll is sealed and its results released — every receipt the last <c>./voting load</c> kept
/// looked up and its proof checked.
/// </summary>
internal static class ReceiptsCommand
{
    public static Command Create()
    {
        var from = new Option<FileInfo>("--from") { Description = "the receipts a load run kept (default: the last ./voting load's, .voting/load-receipts.csv)" };
        var command = new Command("receipts",
            "check the receipts of the last ./voting load once the poll is sealed and released: every voter's latest receipt looked up on the results app " +
            "and its proof verified against the published, signed root. Other options are the load tool's (tools/LoadGen/README.md), e.g. --concurrency 32.")
        {
            from,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction((parse, _) =>
        {
            var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
            var file = parse.GetValue(from)?.FullName ?? LoadCommand.ReceiptsFile(system);
            if (!File.Exists(file))
            {
                throw new CliException($"{file} does not exist: run ./voting load first (it keeps its receipts there), or name a file with --from");
            }

            // After up --tls the results app answers over HTTPS with the system's self-signed certificate.
            string[] trust = system.Tls ? ["--ca", system.Certificate().CertificatePath] : [];
            return LoadGen.LoadCommand.RunAsync(["receipts", "--results", LoadCommand.ResultsUrl(system), .. trust, "--receipts", file, .. parse.UnmatchedTokens], Console.Out, Console.Error);
        });
        return command;
    }
}
