using Orleans.Storage;
using Voting.Testing;

namespace Voting.Clustering.Tests.AdoNet;

/// <summary>Orleans' AdoNetGrainStorage over the project's scripts, through a grain and directly.</summary>
[Collection(AdoNetCollection.Name)]
public sealed class GrainStorageTests(AdoNetFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task WrittenStateIsReadBackAfterDeactivation()
    {
        var grain = NewNote();
        await grain.SetAsync("cats");

        var reactivated = await ReactivateAsync(grain);

        Assert.Equal("cats", reactivated.Text);
        Assert.True(reactivated.RecordExists);
        Assert.Equal("1", reactivated.ETag);
    }

    [Fact]
    public async Task ClearedStateIsGoneAfterDeactivation()
    {
        var grain = NewNote();
        await grain.SetAsync("dogs");
        await grain.ClearAsync();

        var reactivated = await ReactivateAsync(grain);

        Assert.Null(reactivated.Text);
        Assert.False(reactivated.RecordExists);
        // The cleared row keeps a version of its own, so an etag from before the clear can never match again.
        Assert.Equal("2", reactivated.ETag);
    }

    [Fact]
    public async Task StaleWriterIsRefusedWithInconsistentStateException()
    {
        var grain = NewNote();
        await grain.SetAsync("mine");

        // A second writer of the same state (say, a duplicate activation on the other side of a partition) writes
        // first. The grain's etag is now stale.
        var storage = fixture.SiloKeyedService<IGrainStorage>(AdoNetFixture.StorageName);
        var other = new GrainState<NoteState>();
        await storage.ReadStateAsync(NoteGrain.StateName, grain.GetGrainId(), other);
        other.State!.Text = "theirs";
        await storage.WriteStateAsync(NoteGrain.StateName, grain.GetGrainId(), other);

        await Assert.ThrowsAsync<InconsistentStateException>(() => grain.SetAsync("stale"));

        var stored = new GrainState<NoteState>();
        await storage.ReadStateAsync(NoteGrain.StateName, grain.GetGrainId(), stored);
        Assert.Equal("theirs", stored.State!.Text);
        Assert.Equal("2", stored.ETag);
    }

    [Fact]
    public async Task ConcurrentFirstWritesHaveExactlyOneWinner()
    {
        var storage = fixture.SiloKeyedService<IGrainStorage>(AdoNetFixture.StorageName);
        var grainId = GrainId.Create("race", Guid.NewGuid().ToString("N"));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
        {
            try
            {
                await storage.WriteStateAsync("race", grainId, new GrainState<NoteState>(new NoteState { Text = $"writer {i}" }));
                return true;
            }
            catch (InconsistentStateException)
            {
                return false;
            }
        })));

        Assert.Single(outcomes, won => won);
        var stored = new GrainState<NoteState>();
        await storage.ReadStateAsync("race", grainId, stored);
        Assert.Equal($"writer {Array.IndexOf(outcomes, true)}", stored.State!.Text);
    }

    [Fact]
    public async Task ClearWithDeleteStateOnClearRemovesTheRow()
    {
        var storage = fixture.SiloKeyedService<IGrainStorage>(AdoNetFixture.DeletingStorageName);
        var grainId = GrainId.Create("deleting", "note-" + Guid.NewGuid().ToString("N"));
        var state = new GrainState<NoteState>(new NoteState { Text = "short-lived" });
        await storage.WriteStateAsync("deleting", grainId, state);
        Assert.Equal(1, await CountRowsAsync("deleting", grainId));

        await storage.ClearStateAsync("deleting", grainId, state);

        Assert.Equal(0, await CountRowsAsync("deleting", grainId));
        Assert.Null(state.ETag);
        Assert.False(state.RecordExists);
        // Starting over is a first write again.
        await storage.WriteStateAsync("deleting", grainId, new GrainState<NoteState>(new NoteState { Text = "again" }));
    }

    [Fact]
    public async Task StaleClearIsRefused()
    {
        var storage = fixture.SiloKeyedService<IGrainStorage>(AdoNetFixture.StorageName);
        var grainId = GrainId.Create("stale-clear", Guid.NewGuid().ToString("N"));
        var first = new GrainState<NoteState>(new NoteState { Text = "one" });
        await storage.WriteStateAsync("stale-clear", grainId, first);
        var stale = new GrainState<NoteState> { ETag = first.ETag, RecordExists = true };
        first.State!.Text = "two";
        await storage.WriteStateAsync("stale-clear", grainId, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("stale-clear", grainId, stale));

        var stored = new GrainState<NoteState>();
        await storage.ReadStateAsync("stale-clear", grainId, stored);
        Assert.Equal("two", stored.State!.Text);
    }

    [Fact]
    public async Task EveryKindOfGrainKeyKeepsItsOwnState()
    {
        // Integer and Guid keys, with and without an extension (an empty one included), and string keys map onto
        // the same three key columns; none of them may share a row. (A string key that reads as a number or a Guid
        // is that number or Guid to Orleans itself, so the string keys here read as neither.)
        var storage = fixture.SiloKeyedService<IGrainStorage>(AdoNetFixture.StorageName);
        var type = GrainType.Create("keys-" + Guid.NewGuid().ToString("N"));
        var guid = Guid.NewGuid();
        var ids = new[]
        {
            GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(42)),
            // Integer key 42 (hex 2A) with an empty extension, which CreateIntegerKey would drop.
            GrainId.Create(type, "2A+"),
            GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(42, "x")),
            GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(-42)),
            GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(guid)),
            GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(guid, "x")),
            GrainId.Create(type, "forty-two"),
            GrainId.Create(type, "x"),
        };

        foreach (var id in ids)
        {
            await storage.WriteStateAsync("keys", id, new GrainState<NoteState>(new NoteState { Text = id.ToString() }));
        }

        foreach (var id in ids)
        {
            var stored = new GrainState<NoteState>();
            await storage.ReadStateAsync("keys", id, stored);
            Assert.Equal(id.ToString(), stored.State!.Text);
            Assert.Equal("1", stored.ETag);
        }
    }

    private INoteGrain NewNote() => fixture.Cluster.Client.GetGrain<INoteGrain>(Guid.NewGuid().ToString("N"));

    /// <summary>Deactivates the grain and waits until a new activation answers, which has read its state again.</summary>
    private static async Task<NoteSnapshot> ReactivateAsync(INoteGrain grain)
    {
        var before = await grain.GetAsync();
        await grain.DeactivateAsync();
        var after = before;
        await Poll.UntilAsync(async () => (after = await grain.GetAsync()).Activation != before.Activation, Timeout, "The note grain was not reactivated.");
        return after;
    }

    /// <summary>Rows of a string-keyed grain's state (the provider stores a string key as the extension).</summary>
    private async Task<long> CountRowsAsync(string stateName, GrainId grainId)
    {
        await using var command = fixture.DataSource.CreateCommand(
            "SELECT count(*) FROM orleans_grain_state WHERE service_id = @service AND grain_type = @type AND grain_id_extension = @key");
        command.Parameters.AddWithValue("service", fixture.ServiceId);
        command.Parameters.AddWithValue("type", stateName);
        command.Parameters.AddWithValue("key", grainId.Key.ToString());
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
