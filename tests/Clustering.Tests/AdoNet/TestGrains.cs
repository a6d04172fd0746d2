namespace Voting.Clustering.Tests.AdoNet;

/// <summary>A note kept in grain state on the PostgreSQL grain storage.</summary>
[Alias("Voting.Clustering.Tests.AdoNet.INoteGrain")]
public interface INoteGrain : IGrainWithStringKey
{
    [Alias("SetAsync")]
    Task SetAsync(string text);

    [Alias("GetAsync")]
    Task<NoteSnapshot> GetAsync();

    [Alias("ClearAsync")]
    Task ClearAsync();

    [Alias("DeactivateAsync")]
    Task DeactivateAsync();
}

/// <summary>What a note grain's activation holds, and which activation it is.</summary>
[GenerateSerializer, Immutable, Alias("Voting.Clustering.Tests.AdoNet.NoteSnapshot")]
public sealed record NoteSnapshot(
    [property: Id(0)] string? Text,
    [property: Id(1)] string? ETag,
    [property: Id(2)] bool RecordExists,
    [property: Id(3)] Guid Activation);

[GenerateSerializer, Alias("Voting.Clustering.Tests.AdoNet.NoteState")]
public sealed class NoteState
{
    [Id(0)]
    public string? Text { get; set; }
}

public sealed class NoteGrain(
    [PersistentState(NoteGrain.StateName, AdoNetFixture.StorageName)] IPersistentState<NoteState> note) : Grain, INoteGrain
{
    public const string StateName = "note";

    private readonly Guid _activation = Guid.NewGuid();

    public Task SetAsync(string text)
    {
        note.State.Text = text;
        return note.WriteStateAsync();
    }

    public Task<NoteSnapshot> GetAsync() =>
        Task.FromResult(new NoteSnapshot(note.State.Text, note.Etag, note.RecordExists, _activation));

    public Task ClearAsync() => note.ClearStateAsync();

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

/// <summary>Counts the ticks of its reminder.</summary>
[Alias("Voting.Clustering.Tests.AdoNet.ITickingGrain")]
public interface ITickingGrain : IGrainWithStringKey
{
    [Alias("StartAsync")]
    Task StartAsync(TimeSpan period);

    [Alias("StopAsync")]
    Task StopAsync();

    [Alias("GetTicksAsync")]
    Task<int> GetTicksAsync();
}

public sealed class TickingGrain : Grain, ITickingGrain, IRemindable
{
    public const string ReminderName = "tick";

    private int _ticks;

    public Task StartAsync(TimeSpan period) => this.RegisterOrUpdateReminder(ReminderName, period, period);

    public async Task StopAsync()
    {
        if (await this.GetReminder(ReminderName) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task<int> GetTicksAsync() => Task.FromResult(_ticks);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        _ticks++;
        return Task.CompletedTask;
    }
}
