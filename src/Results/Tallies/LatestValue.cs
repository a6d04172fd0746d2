namespace Voting.Results.Tallies;

/// <summary>The latest value of a feed, and a way to wait for the next one: what every open page's event stream awaits.</summary>
public sealed class LatestValue<T>
    where T : class
{
    private TaskCompletionSource<T> _next = NewSource();

    /// <summary>The latest value published, or null before the first.</summary>
    public T? Latest { get; private set; }

    /// <summary>Completes with the next value published.</summary>
    public Task<T> NextAsync(CancellationToken cancellationToken) => _next.Task.WaitAsync(cancellationToken);

    public void Publish(T value)
    {
        Latest = value;
        Interlocked.Exchange(ref _next, NewSource()).TrySetResult(value);
    }

    private static TaskCompletionSource<T> NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
