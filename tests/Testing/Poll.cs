using System.Diagnostics;

namespace Voting.Testing;

/// <summary>Waits for a condition that has no signal of its own (rows arriving in PostgreSQL), with a deadline.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> describeFailure)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"Not true after {timeout.TotalSeconds:F0} s: {await describeFailure()}");
            }

            await Task.Delay(25);
        }
    }

    public static Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string description) =>
        UntilAsync(condition, timeout, () => Task.FromResult(description));
}
