namespace Voting.LoadGen;

/// <summary>
/// The console program: arguments in, exit code out; Ctrl-C once stops sending (the audit still runs), twice abandons
/// the run. <c>receipts ...</c> runs the receipts check instead (<see cref="Receipts.ReceiptsCommand"/>).
/// </summary>
public static class LoadCommand
{
    public const int Passed = 0;
    public const int Failed = 1;
    public const int BadArguments = 2;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (args.Count > 0 && args[0] == "receipts")
        {
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancelCheck = (_, e) =>
            {
                e.Cancel = true;
                cancel.Cancel();
            };
            Console.CancelKeyPress += onCancelCheck;
            try
            {
                return await Receipts.ReceiptsCommand.RunAsync([.. args.Skip(1)], output, error, cancel.Token);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                await error.WriteLineAsync("Voting.LoadGen receipts: abandoned (Ctrl-C).");
                return Failed;
            }
            finally
            {
                Console.CancelKeyPress -= onCancelCheck;
            }
        }

        var parsed = LoadArguments.Parse(args);
        if (parsed.Help)
        {
            await output.WriteAsync(LoadArguments.Usage);
            return Passed;
        }

        if (parsed.Options is not { } options)
        {
            await error.WriteLineAsync($"Voting.LoadGen: {parsed.Error}");
            await error.WriteAsync(LoadArguments.Usage);
            return BadArguments;
        }

        using var stopSending = new CancellationTokenSource();
        using var abandon = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            if (stopSending.IsCancellationRequested)
            {
                abandon.Cancel();
            }
            else
            {
                stopSending.Cancel();
            }
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var report = await LoadRun.RunAsync(options, output, stopSending.Token, abandon.Token);
            return report.ExitCode;
        }
        catch (LoadRunException e)
        {
            await error.WriteLineAsync($"Voting.LoadGen: {e.Message}");
            return Failed;
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            await error.WriteLineAsync("Voting.LoadGen: abandoned (Ctrl-C twice); nothing was audited.");
            return Failed;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
