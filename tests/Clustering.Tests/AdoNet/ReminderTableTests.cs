using Voting.Testing;

namespace Voting.Clustering.Tests.AdoNet;

/// <summary>Orleans' AdoNetReminderTable over the project's scripts, as the silo's reminder service uses it.</summary>
[Collection(AdoNetCollection.Name)]
public sealed class ReminderTableTests(AdoNetFixture fixture)
{
    private IReminderTable Table => fixture.SiloService<IReminderTable>();

    [Fact]
    public async Task ReminderIsRegisteredReadBackUpdatedAndUnregistered()
    {
        var grainId = NewGrainId();
        var startAt = new DateTime(2026, 2, 3, 4, 5, 6, 789, DateTimeKind.Utc).AddTicks(1230);
        var firstEtag = await Table.UpsertRow(new ReminderEntry { GrainId = grainId, ReminderName = "wake", StartAt = startAt, Period = TimeSpan.FromMinutes(5) });
        Assert.False(string.IsNullOrEmpty(firstEtag));

        var read = await Table.ReadRow(grainId, "wake");
        Assert.NotNull(read);
        Assert.Equal(grainId, read.GrainId);
        Assert.Equal("wake", read.ReminderName);
        Assert.Equal(startAt, read.StartAt);
        Assert.Equal(TimeSpan.FromMinutes(5), read.Period);
        Assert.Equal(firstEtag, read.ETag);

        var secondEtag = await Table.UpsertRow(new ReminderEntry { GrainId = grainId, ReminderName = "wake", StartAt = startAt, Period = TimeSpan.FromDays(40) });
        Assert.NotEqual(firstEtag, secondEtag);
        var updated = Assert.Single((await Table.ReadRows(grainId)).Reminders);
        Assert.Equal(TimeSpan.FromDays(40), updated.Period);
        Assert.Equal(secondEtag, updated.ETag);

        Assert.False(await Table.RemoveRow(grainId, "wake", firstEtag!));
        Assert.NotNull(await Table.ReadRow(grainId, "wake"));
        Assert.True(await Table.RemoveRow(grainId, "wake", secondEtag!));
        Assert.Null(await Table.ReadRow(grainId, "wake"));
        Assert.Empty((await Table.ReadRows(grainId)).Reminders);
    }

    [Fact]
    public async Task AGrainsRemindersAreReadTogetherAndApart()
    {
        var grainId = NewGrainId();
        var neighbour = NewGrainId();
        foreach (var (id, name) in new[] { (grainId, "a"), (grainId, "b"), (neighbour, "a") })
        {
            await Table.UpsertRow(new ReminderEntry { GrainId = id, ReminderName = name, StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1) });
        }

        Assert.Equal(["a", "b"], (await Table.ReadRows(grainId)).Reminders.Select(r => r.ReminderName).Order());
        Assert.Null(await Table.ReadRow(grainId, "c"));
    }

    [Fact]
    public async Task RangeReadsFollowTheHashRing()
    {
        var ids = Enumerable.Range(0, 64).Select(_ => NewGrainId()).ToList();
        foreach (var id in ids)
        {
            await Table.UpsertRow(new ReminderEntry { GrainId = id, ReminderName = "ring", StartAt = DateTime.UtcNow, Period = TimeSpan.FromMinutes(1) });
        }

        var hashes = ids.Select(id => id.GetUniformHashCode()).Order().ToArray();
        uint[] ranges =
        [
            // Ranges inside the lower and the upper half, one across the signed boundary (2^31), wrapping ones across
            // zero, one that ends on a reminder's own hash (end is included, begin is not), and the whole ring.
            0, 0x7000_0000,
            0x9000_0000, 0xF000_0000,
            0x4000_0000, 0xC000_0000,
            0xC000_0000, 0x4000_0000,
            0xF000_0000, 0x1000_0000,
            hashes[10], hashes[40],
            0x1234_5678, 0x1234_5678,
        ];

        for (var i = 0; i < ranges.Length; i += 2)
        {
            var (begin, end) = (ranges[i], ranges[i + 1]);
            var expected = ids.Where(id => InRange(id.GetUniformHashCode(), begin, end)).ToHashSet();
            var actual = (await Table.ReadRows(begin, end)).Reminders.Where(r => r.ReminderName == "ring").Select(r => r.GrainId)
                .Where(ids.Contains).ToHashSet();
            Assert.True(expected.SetEquals(actual), $"Range ({begin:X8}, {end:X8}]: expected {expected.Count} reminders, read {actual.Count}.");
        }
    }

    [Fact]
    public async Task ReminderFiresAndStopsThroughThePostgresTable()
    {
        var grain = fixture.Cluster.Client.GetGrain<ITickingGrain>(Guid.NewGuid().ToString("N"));

        await grain.StartAsync(TimeSpan.FromSeconds(1));
        Assert.NotNull(await Table.ReadRow(grain.GetGrainId(), TickingGrain.ReminderName));

        await Poll.UntilAsync(async () => await grain.GetTicksAsync() >= 2, TimeSpan.FromSeconds(30), "The reminder did not fire twice.");

        await grain.StopAsync();
        Assert.Null(await Table.ReadRow(grain.GetGrainId(), TickingGrain.ReminderName));
    }

    /// <summary>Orleans' ring range: (begin, end], wrapping past the top; begin = end is the whole ring.</summary>
    private static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    private static GrainId NewGrainId() => GrainId.Create("reminded", Guid.NewGuid().ToString("N"));
}
