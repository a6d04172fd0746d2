namespace Voting.Testing;

/// <summary>Servers and processes a fixture started, disposed in reverse order: applications before the servers they use.</summary>
public sealed class OwnedResources : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    public T Own<T>(T resource)
        where T : IAsyncDisposable
    {
        lock (_owned)
        {
            _owned.Add(resource);
        }

        return resource;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        _owned.Clear();
    }
}
