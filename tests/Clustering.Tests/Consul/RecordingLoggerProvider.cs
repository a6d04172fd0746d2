using Microsoft.Extensions.Logging;

namespace Voting.Clustering.Tests.Consul;

/// <summary>One log event as the provider wrote it.</summary>
public sealed record LoggedEvent(string Category, LogLevel Level, EventId Id, string Message);

/// <summary>Keeps every log event, so tests can assert on logs and wait for one as an explicit signal.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly Lock _lock = new();
    private readonly List<LoggedEvent> _events = [];
    private readonly List<(Func<LoggedEvent, bool> Match, TaskCompletionSource Signal)> _waiters = [];

    public IReadOnlyList<LoggedEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    public ILoggerFactory CreateFactory() => LoggerFactory.Create(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(this));

    /// <summary>Completes when an event matching <paramref name="match"/> has been logged (before or after the call).</summary>
    public Task WaitForAsync(Func<LoggedEvent, bool> match, TimeSpan timeout)
    {
        lock (_lock)
        {
            if (_events.Any(match))
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, signal));
            return signal.Task.WaitAsync(timeout);
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(LoggedEvent logged)
    {
        lock (_lock)
        {
            _events.Add(logged);
            foreach (var waiter in _waiters.Where(w => w.Match(logged)).ToList())
            {
                _waiters.Remove(waiter);
                waiter.Signal.TrySetResult();
            }
        }
    }

    private sealed class Logger(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            provider.Add(new LoggedEvent(category, logLevel, eventId, formatter(state, exception)));
    }
}
