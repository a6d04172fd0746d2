using System.Diagnostics;

namespace Voting.LoadGen.Voters;

/// <summary>
/// Spaces votes out to a rate over all voters: the n-th vote is due n / rate seconds after the start. A rate of 0
/// lets every vote go at once (the concurrency is the only limit). The rate is a ceiling: when the system answers
/// more slowly, late votes go as soon as a voter is free, up to the concurrency.
/// </summary>
internal sealed class Pacer(double votesPerSecond)
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _issued;

    /// <summary>Waits until the next vote is due; false when sending has stopped (before or while waiting).</summary>
    public async ValueTask<bool> WaitAsync(CancellationToken sending)
    {
        if (sending.IsCancellationRequested)
        {
            return false;
        }

        if (votesPerSecond <= 0)
        {
            return true;
        }

        var slot = Interlocked.Increment(ref _issued) - 1;
        var due = TimeSpan.FromSeconds(slot / votesPerSecond);
        // A timer may fire a little early: wait again until the vote is really due.
        TimeSpan wait;
        while ((wait = due - Stopwatch.GetElapsedTime(_start)) > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, sending);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        return !sending.IsCancellationRequested;
    }
}
