using Voting.Storage;

namespace Voting.Grains.Tests;

/// <summary>Shared reads of the tallies: at most one in flight, and never a value read before the caller asked.</summary>
public sealed class CoalescedReadTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>A read that counts its calls and finishes only when the test lets it.</summary>
    private sealed class GatedRead
    {
        private readonly Queue<TaskCompletionSource<int>> _gates = new();
        private readonly SemaphoreSlim _started = new(0);

        public int Calls { get; private set; }

        public Task<int> ReadAsync(CancellationToken cancellationToken)
        {
            var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_gates)
            {
                Calls++;
                _gates.Enqueue(gate);
            }

            _started.Release();
            return gate.Task;
        }

        /// <summary>Waits for the next read to start, then ends it with <paramref name="value"/> (or fails it).</summary>
        public async Task FinishNextAsync(int value, Exception? failure = null)
        {
            Assert.True(await _started.WaitAsync(Timeout), "no read started");
            TaskCompletionSource<int> gate;
            lock (_gates)
            {
                gate = _gates.Dequeue();
            }

            if (failure is null)
            {
                gate.SetResult(value);
            }
            else
            {
                gate.SetException(failure);
            }
        }
    }

    [Fact]
    public async Task CallersDuringAReadShareTheNextReadNotTheRunningOne()
    {
        var gated = new GatedRead();
        var shared = new CoalescedRead<int>(gated.ReadAsync);

        var first = shared.ReadAsync(CancellationToken.None);
        var during = Enumerable.Range(0, 100).Select(_ => shared.ReadAsync(CancellationToken.None)).ToArray();

        await gated.FinishNextAsync(1);
        Assert.Equal(1, await first.WaitAsync(Timeout));
        Assert.All(during, call => Assert.False(call.IsCompleted)); // read 1 started before they asked

        await gated.FinishNextAsync(2);
        Assert.All(await Task.WhenAll(during).WaitAsync(Timeout), value => Assert.Equal(2, value));
        Assert.Equal(2, gated.Calls);

        // Idle again: the next caller starts a read of its own at once.
        var later = shared.ReadAsync(CancellationToken.None);
        await gated.FinishNextAsync(3);
        Assert.Equal(3, await later.WaitAsync(Timeout));
        Assert.Equal(3, gated.Calls);
    }

    [Fact]
    public async Task AFailedReadFailsOnlyItsCallersAndTheNextReadServesTheOthers()
    {
        var gated = new GatedRead();
        var shared = new CoalescedRead<int>(gated.ReadAsync);

        var failing = shared.ReadAsync(CancellationToken.None);
        var next = shared.ReadAsync(CancellationToken.None);
        await gated.FinishNextAsync(0, new TimeoutException("PostgreSQL did not answer"));
        await Assert.ThrowsAsync<TimeoutException>(() => failing.WaitAsync(Timeout));

        await gated.FinishNextAsync(7);
        Assert.Equal(7, await next.WaitAsync(Timeout));
    }

    [Fact]
    public async Task ACallerThatGivesUpDoesNotCancelTheReadOthersWaitFor()
    {
        var gated = new GatedRead();
        var shared = new CoalescedRead<int>(gated.ReadAsync);
        using var impatient = new CancellationTokenSource();

        var givingUp = shared.ReadAsync(impatient.Token);
        var waiting = shared.ReadAsync(CancellationToken.None);
        await impatient.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => givingUp);

        await gated.FinishNextAsync(5);
        await gated.FinishNextAsync(6);
        Assert.Equal(6, await waiting.WaitAsync(Timeout));
        Assert.Equal(2, gated.Calls);
    }
}
