using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Voting.Clustering.Consul;

/// <summary>
/// The JSON stored under <c>members/{silo}</c>: every field of a <see cref="MembershipEntry"/>, plus a write id that
/// makes every write change the value. Consul keeps a key's ModifyIndex when a write leaves the value as it was, so
/// without it a repeated identical update would leave the row's etag unchanged.
/// </summary>
internal sealed class ConsulMemberRow
{
    public required string SiloAddress { get; init; }

    [JsonConverter(typeof(JsonStringEnumConverter<SiloStatus>))]
    public SiloStatus Status { get; init; }

    public int ProxyPort { get; init; }

    public string? HostName { get; init; }

    public string? SiloName { get; init; }

    public string? RoleName { get; init; }

    public int UpdateZone { get; init; }

    public int FaultZone { get; init; }

    public DateTime StartTime { get; init; }

    public DateTime IAmAliveTime { get; init; }

    public List<ConsulSuspectVote>? SuspectTimes { get; init; }

    public required string WriteId { get; init; }

    public static byte[] Serialize(MembershipEntry entry, string writeId)
    {
        ArgumentNullException.ThrowIfNull(entry.SiloAddress);
        var row = new ConsulMemberRow
        {
            SiloAddress = entry.SiloAddress.ToParsableString(),
            Status = entry.Status,
            ProxyPort = entry.ProxyPort,
            HostName = entry.HostName,
            SiloName = entry.SiloName,
            RoleName = entry.RoleName,
            UpdateZone = entry.UpdateZone,
            FaultZone = entry.FaultZone,
            StartTime = Utc(entry.StartTime),
            IAmAliveTime = Utc(entry.IAmAliveTime),
            SuspectTimes = entry.SuspectTimes?.Select(v => new ConsulSuspectVote { Silo = v.Item1.ToParsableString(), Time = Utc(v.Item2) }).ToList(),
            WriteId = writeId,
        };
        return JsonSerializer.SerializeToUtf8Bytes(row, ConsulMembershipJson.Default.ConsulMemberRow);
    }

    /// <summary>A fresh entry (callers may change it) from the JSON stored under <paramref name="key"/>.</summary>
    public static MembershipEntry Deserialize(string key, byte[]? value)
    {
        try
        {
            if (value is not null && JsonSerializer.Deserialize(value, ConsulMembershipJson.Default.ConsulMemberRow) is { } row)
            {
                return row.ToEntry();
            }
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new ConsulClusteringException($"Consul key '{key}' does not hold a membership entry written by this provider: {e.Message}", e);
        }

        throw new ConsulClusteringException($"Consul key '{key}' does not hold a membership entry written by this provider.");
    }

    private MembershipEntry ToEntry() => new()
    {
        SiloAddress = Orleans.Runtime.SiloAddress.FromParsableString(SiloAddress),
        Status = Status,
        ProxyPort = ProxyPort,
        HostName = HostName!,
        SiloName = SiloName!,
        RoleName = RoleName,
        UpdateZone = UpdateZone,
        FaultZone = FaultZone,
        StartTime = Utc(StartTime),
        IAmAliveTime = Utc(IAmAliveTime),
        SuspectTimes = SuspectTimes?.Select(v => Tuple.Create(Orleans.Runtime.SiloAddress.FromParsableString(v.Silo), Utc(v.Time))).ToList(),
    };

    /// <summary>The value of an <c>iamalive/{silo}</c> key: the time in ISO 8601 round-trip form.</summary>
    public static byte[] SerializeIAmAlive(DateTime time) =>
        Encoding.UTF8.GetBytes(Utc(time).ToString("O", CultureInfo.InvariantCulture));

    public static DateTime DeserializeIAmAlive(string key, byte[]? value)
    {
        if (value is not null
            && DateTime.TryParseExact(Encoding.UTF8.GetString(value), "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time))
        {
            return Utc(time);
        }

        throw new ConsulClusteringException($"Consul key '{key}' does not hold an IAmAlive time written by this provider.");
    }

    internal static DateTime Utc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => time.ToUniversalTime(),
        DateTimeKind.Unspecified => DateTime.SpecifyKind(time, DateTimeKind.Utc),
        _ => time,
    };
}

internal sealed class ConsulSuspectVote
{
    public required string Silo { get; init; }

    public DateTime Time { get; init; }
}

/// <summary>The JSON stored under <c>version</c>: the table version number, and a write id so every write changes the value.</summary>
internal sealed class ConsulVersionRow
{
    public int Version { get; init; }

    public required string WriteId { get; init; }

    public static byte[] Serialize(int version, string writeId) =>
        JsonSerializer.SerializeToUtf8Bytes(new ConsulVersionRow { Version = version, WriteId = writeId }, ConsulMembershipJson.Default.ConsulVersionRow);

    public static int Deserialize(string key, byte[]? value)
    {
        try
        {
            if (value is not null && JsonSerializer.Deserialize(value, ConsulMembershipJson.Default.ConsulVersionRow) is { } row)
            {
                return row.Version;
            }
        }
        catch (JsonException e)
        {
            throw new ConsulClusteringException($"Consul key '{key}' does not hold a membership table version written by this provider: {e.Message}", e);
        }

        throw new ConsulClusteringException($"Consul key '{key}' does not hold a membership table version written by this provider.");
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ConsulMemberRow))]
[JsonSerializable(typeof(ConsulVersionRow))]
internal sealed partial class ConsulMembershipJson : JsonSerializerContext;
