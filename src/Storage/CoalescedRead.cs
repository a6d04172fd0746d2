namespace Voting.Storage;

/// <summary>
/// Runs a read for many concurrent callers with at most one read in flight. A caller never gets a value read before
/// it asked: if a read is already running, the caller waits for the next one, which starts as soon as the running one
/// ends and answers everybody who asked meanwhile. A thousand callers at once cost two reads, not a thousand.
/// </summary>
public sealed class CoalescedRead<T>(Func<CancellationToken, Task<T>> read)
{
    private readonly Lock _gate = new();
    private bool _running;
    private TaskCompletionSource<T>? _next;

    /// <summary>The result of a read that started after this call; cancelling stops the wait, not the read.</summary>
    public Task<T> ReadAsync(CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_running)
            {
                _next ??= waiter;
                return _next.Task.WaitAsync(cancellationToken);
            }

            _running = true;
        }

        _ = RunAsync(waiter);
        return waiter.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(TaskCompletionSource<T> waiters)
    {
        while (true)
        {
            try
            {
                // Callers' cancellation must not fail a read that others share; the read's own timeouts bound it.
                waiters.TrySetResult(await read(CancellationToken.None));
            }
            catch (Exception e)
            {
                waiters.TrySetException(e);
            }

            lock (_gate)
            {
                if (_next is null)
                {
                    _running = false;
                    return;
                }

                waiters = _next;
                _next = null;
            }
        }
    }
}
