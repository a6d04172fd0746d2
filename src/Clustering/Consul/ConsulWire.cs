using System.Text.Json.Serialization;

namespace Voting.Clustering.Consul;

/// <summary>One key as Consul returns it from <c>GET /v1/kv/...</c> and in transaction results; <c>Value</c> travels as base64.</summary>
internal sealed class ConsulKvPair
{
    public string Key { get; init; } = "";

    public byte[]? Value { get; init; }

    public ulong Flags { get; init; }

    public ulong CreateIndex { get; init; }

    public ulong ModifyIndex { get; init; }
}

/// <summary>One element of the JSON array sent to <c>PUT /v1/txn</c>.</summary>
internal sealed class ConsulTxnOperation
{
    [JsonPropertyName("KV")]
    public required ConsulTxnKvOperation Kv { get; init; }
}

internal sealed class ConsulTxnKvOperation
{
    public required string Verb { get; init; }

    public required string Key { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public byte[]? Value { get; init; }

    /// <summary>For <c>cas</c>, <c>check-index</c> and <c>delete-cas</c>: the ModifyIndex the key must have (0 with <c>cas</c>: absent).</summary>
    public ulong Index { get; init; }

    public static ConsulTxnOperation Of(string verb, string key, byte[]? value = null, ulong index = 0) =>
        new() { Kv = new ConsulTxnKvOperation { Verb = verb, Key = key, Value = value, Index = index } };
}

/// <summary>The answer to <c>PUT /v1/txn</c>: <c>Results</c> with 200, <c>Errors</c> with 409 (then nothing was applied).</summary>
internal sealed class ConsulTxnResponse
{
    public List<ConsulTxnResult>? Results { get; init; }

    public List<ConsulTxnError>? Errors { get; init; }
}

internal sealed class ConsulTxnResult
{
    [JsonPropertyName("KV")]
    public ConsulKvPair? Kv { get; init; }
}

internal sealed class ConsulTxnError
{
    public int OpIndex { get; init; }

    public string What { get; init; } = "";
}

/// <summary>The transaction verbs this provider uses (Consul's <c>/v1/txn</c> KV verbs).</summary>
internal static class ConsulVerbs
{
    public const string Set = "set";
    public const string Cas = "cas";
    public const string Get = "get";
    public const string Delete = "delete";
    public const string DeleteCas = "delete-cas";
}

[JsonSerializable(typeof(ConsulKvPair[]))]
[JsonSerializable(typeof(ConsulTxnOperation[]))]
[JsonSerializable(typeof(ConsulTxnResponse))]
[JsonSerializable(typeof(bool))]
internal sealed partial class ConsulWireJson : JsonSerializerContext;
