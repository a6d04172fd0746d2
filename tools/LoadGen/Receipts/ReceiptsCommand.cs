namespace Voting.LoadGen.Receipts;

/// <summary>
/// <c>Voting.LoadGen receipts --receipts FILE [options]</c>: the receipts check of a load run that kept its receipts
/// (<c>--receipts FILE</c>), once the poll is sealed and its results released. Exit code 0 when every receipt checked
/// out, 1 when one did not (or the seal is not published or does not verify), 2 for a bad argument.
/// </summary>
public static class ReceiptsCommand
{
    public const string Usage =
        """
        Usage: Voting.LoadGen receipts --receipts FILE [options]

        Once the poll is sealed and its results released: verifies the published manifest's signature with the
        published key, looks up every voter's latest acknowledged receipt of a load run (GET /api/receipts/{voteId}?code=)
        and checks its proof itself (the ballot, its leaf, the audit path to the signed root), and a sample of
        superseded receipts answered "superseded" with the proof of the voter's latest vote.
        Exit code: 0 every receipt checked out, 1 one did not (or the seal is not published), 2 bad arguments.

          --receipts FILE           the receipts a load run kept (Voting.LoadGen --receipts FILE)  (required)
          --results URL             the results app  (http://127.0.0.1:8090)
          --ca FILE                 trust only the PEM certificate(s) in FILE for an https:// results app (the
                                    self-signed certificate of ./voting up --tls: .voting/tls/edge.crt)  (the system's roots)
          --concurrency N           lookups in flight at once  (16)
          --deadline T              how long "not yet" (409: not sealed or not released), "ask again" (503: the
                                    seal is being loaded) and "limited" (429) are asked again, after their
                                    Retry-After  (2m)
          --superseded N            superseded receipts looked up  (1000)
          --timeout T               a request unanswered after T fails  (10s)
          -h, --help                this text
        """;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (LoadArguments.ReadValues(args, Known, values) is { } parse)
        {
            if (parse.Length == 0)
            {
                await output.WriteAsync(Usage);
                return LoadCommand.Passed;
            }

            return await BadAsync(error, parse);
        }

        ReceiptCheckOptions options;
        var defaults = new ReceiptCheckOptions();
        try
        {
            options = new ReceiptCheckOptions
            {
                Results = values.TryGetValue("--results", out var results) ? LoadArguments.Url("--results", results) : defaults.Results,
                TrustedCertificates = values.TryGetValue("--ca", out var ca) ? LoadArguments.Certificates(ca) : defaults.TrustedCertificates,
                Concurrency = LoadArguments.Integer(values, "--concurrency", defaults.Concurrency),
                Deadline = LoadArguments.Duration(values, "--deadline", defaults.Deadline),
                SupersededSample = LoadArguments.Integer(values, "--superseded", defaults.SupersededSample),
                RequestTimeout = LoadArguments.Duration(values, "--timeout", defaults.RequestTimeout),
            };
        }
        catch (FormatException e)
        {
            return await BadAsync(error, e.Message);
        }

        if (options.Validate() is { } problem)
        {
            return await BadAsync(error, problem);
        }

        if (!values.TryGetValue("--receipts", out var file))
        {
            return await BadAsync(error, "--receipts FILE is required: the receipts a load run kept (Voting.LoadGen --receipts FILE).");
        }

        try
        {
            var voters = await ReceiptFile.ReadAsync(file, cancellationToken);
            var report = await ReceiptCheck.RunAsync(options, voters, output, cancellationToken);
            await output.WriteLineAsync(report.Describe());
            return report.Passed ? LoadCommand.Passed : LoadCommand.Failed;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            await error.WriteLineAsync($"Voting.LoadGen receipts: {file} cannot be read: {e.Message}");
            return LoadCommand.Failed;
        }
        catch (LoadRunException e)
        {
            await error.WriteLineAsync($"Voting.LoadGen receipts: {e.Message}");
            return LoadCommand.Failed;
        }
    }

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "--receipts", "--results", "--ca", "--concurrency", "--deadline", "--superseded", "--timeout",
    };

    private static async Task<int> BadAsync(TextWriter error, string problem)
    {
        await error.WriteLineAsync($"Voting.LoadGen receipts: {problem}");
        await error.WriteAsync(Usage);
        return LoadCommand.BadArguments;
    }
}
