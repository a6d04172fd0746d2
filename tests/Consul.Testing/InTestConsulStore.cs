namespace Voting.Clustering.Consul.Testing;

/// <summary>
/// The key/value state machine of the in-test Consul, kept to the semantics of Consul's state store
/// (<c>agent/consul/state/kvs.go</c> and <c>txn.go</c>, and the HTTP API docs):
/// <list type="bullet">
/// <item>Every write request is one raft log entry and takes the next raft index, even when its check-and-set fails;
/// reads and read-only transactions take none. Indexes only grow, with gaps.</item>
/// <item>A key's CreateIndex is the index that created it; its ModifyIndex the index that last changed it. A write
/// that leaves value and flags as they were changes nothing, not even the ModifyIndex.</item>
/// <item>A deleted key leaves a tombstone at the deleting index, so the index reported for a prefix never goes back.</item>
/// <item><c>cas</c> 0 creates only an absent key; <c>cas</c> n sets only a key whose ModifyIndex is n. A delete with
/// <c>cas</c> n removes only a key whose ModifyIndex is n, and succeeds when the key is already gone.</item>
/// <item>A transaction runs its operations in order against one working copy (later operations see earlier ones),
/// collects an error for every operation that fails, and applies nothing unless none failed.</item>
/// </list>
/// Thread-safe: every operation holds one lock, so the store is linearizable like Consul's leader.
/// </summary>
public sealed class InTestConsulStore
{
    public const int MaxValueBytes = 512 * 1024;

    private static readonly HashSet<string> WriteVerbs = ["set", "cas", "lock", "unlock", "delete", "delete-tree", "delete-cas"];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, ulong> _tombstones = new(StringComparer.Ordinal);
    private SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    // A fresh Consul has applied a few raft entries before anybody writes a key.
    private ulong _raftIndex = 12;
    private ulong _kvsIndex;

    /// <summary>One key as Consul stores it.</summary>
    public sealed record Entry(string Key, byte[]? Value, ulong Flags, ulong CreateIndex, ulong ModifyIndex);

    /// <summary>One KV operation of a transaction, as sent in the JSON body of <c>PUT /v1/txn</c>.</summary>
    public sealed record Operation(string Verb, string Key, byte[]? Value = null, ulong Flags = 0, ulong Index = 0);

    public sealed record TxnError(int OpIndex, string What);

    /// <summary>Results (entries; values left out except for reads) when committed; otherwise the errors, and nothing applied.</summary>
    public sealed record TxnOutcome(IReadOnlyList<Entry> Results, IReadOnlyList<TxnError> Errors)
    {
        public bool Committed => Errors.Count == 0;
    }

    public static bool IsWrite(string verb) => WriteVerbs.Contains(verb);

    /// <summary>The last raft index applied.</summary>
    public ulong RaftIndex
    {
        get
        {
            lock (_lock)
            {
                return _raftIndex;
            }
        }
    }

    /// <summary>Every key now, for tests that look at the raw layout.</summary>
    public IReadOnlyDictionary<string, Entry> Snapshot()
    {
        lock (_lock)
        {
            return new SortedDictionary<string, Entry>(_entries, StringComparer.Ordinal);
        }
    }

    /// <summary>A single key and the index to report with it: the whole KV table's index, as Consul's <c>KVS.Get</c>.</summary>
    public (Entry? Entry, ulong Index) Get(string key)
    {
        lock (_lock)
        {
            return (_entries.GetValueOrDefault(key), ReportedIndex(0));
        }
    }

    /// <summary>
    /// Every key with the prefix, in key order, and the index to report: the highest ModifyIndex among them or among the
    /// prefix's tombstones, or the whole table's index when the prefix is empty or nothing matched.
    /// </summary>
    public (IReadOnlyList<Entry> Entries, ulong Index) List(string prefix)
    {
        lock (_lock)
        {
            var entries = Under(_entries, prefix).ToList();
            var index = prefix.Length == 0 ? 0 : PrefixIndex(prefix);
            return (entries, ReportedIndex(index));
        }
    }

    /// <summary>The keys with the prefix, each cut after the first <paramref name="separator"/> past the prefix (then unique).</summary>
    public (IReadOnlyList<string> Keys, ulong Index) Keys(string prefix, string? separator)
    {
        lock (_lock)
        {
            var keys = new List<string>();
            foreach (var entry in Under(_entries, prefix))
            {
                var key = entry.Key;
                if (!string.IsNullOrEmpty(separator))
                {
                    var cut = key.IndexOf(separator, prefix.Length, StringComparison.Ordinal);
                    if (cut >= 0)
                    {
                        key = key[..(cut + separator.Length)];
                    }
                }

                if (keys.Count == 0 || keys[^1] != key)
                {
                    keys.Add(key);
                }
            }

            return (keys, ReportedIndex(PrefixIndex(prefix)));
        }
    }

    /// <summary><c>PUT /v1/kv/{key}</c>, with <c>?cas=</c> when <paramref name="cas"/> is set. False when the check failed.</summary>
    public bool Put(string key, byte[]? value, ulong flags, ulong? cas)
    {
        lock (_lock)
        {
            var index = ++_raftIndex;
            var working = _entries;
            var tombstones = new List<string>();
            var op = new Operation(cas is null ? "set" : "cas", key, value, flags, cas ?? 0);
            var (_, error) = Apply(working, tombstones, index, op);
            return error is null;
        }
    }

    /// <summary><c>DELETE /v1/kv/{key}</c>, with <c>?cas=</c> when <paramref name="cas"/> is set. False when the check failed.</summary>
    public bool Delete(string key, ulong? cas)
    {
        lock (_lock)
        {
            var index = ++_raftIndex;
            var tombstones = new List<string>();
            var (_, error) = Apply(_entries, tombstones, index, new Operation(cas is null ? "delete" : "delete-cas", key, Index: cas ?? 0));
            Bury(tombstones, index);
            return error is null;
        }
    }

    /// <summary><c>DELETE /v1/kv/{prefix}?recurse</c>.</summary>
    public void DeleteTree(string prefix)
    {
        lock (_lock)
        {
            var index = ++_raftIndex;
            var tombstones = new List<string>();
            Apply(_entries, tombstones, index, new Operation("delete-tree", prefix));
            Bury(tombstones, index);
        }
    }

    /// <summary>
    /// <c>PUT /v1/txn</c> after its pre-checks: a transaction with a write is one raft entry, applied whole or not at all;
    /// a read-only one runs against the current state and takes no index.
    /// </summary>
    public TxnOutcome Transact(IReadOnlyList<Operation> operations)
    {
        lock (_lock)
        {
            var writes = operations.Any(o => IsWrite(o.Verb));
            var index = writes ? ++_raftIndex : 0;
            var working = new SortedDictionary<string, Entry>(_entries, StringComparer.Ordinal);
            var tombstones = new List<string>();
            var results = new List<Entry>();
            var errors = new List<TxnError>();
            for (var i = 0; i < operations.Count; i++)
            {
                var (opResults, error) = Apply(working, tombstones, index, operations[i]);
                results.AddRange(opResults);
                if (error is not null)
                {
                    errors.Add(new TxnError(i, error));
                }
            }

            if (errors.Count > 0)
            {
                return new TxnOutcome([], errors);
            }

            if (writes)
            {
                if (!ReferenceEquals(working, _entries) && Changed(_entries, working))
                {
                    _kvsIndex = index;
                }

                _entries = working;
                Bury(tombstones, index);
            }

            return new TxnOutcome(results, []);
        }
    }

    /// <summary>One KV operation against <paramref name="entries"/>: its results, or why it failed (then it changed nothing).</summary>
    private (IReadOnlyList<Entry> Results, string? Error) Apply(SortedDictionary<string, Entry> entries, List<string> tombstones, ulong index, Operation op)
    {
        var existing = entries.GetValueOrDefault(op.Key);
        switch (op.Verb)
        {
            case "set":
                return ([WithoutValue(Set(entries, index, op, existing))], null);

            case "cas":
                if ((op.Index == 0 && existing is not null) || (op.Index != 0 && (existing is null || existing.ModifyIndex != op.Index)))
                {
                    return ([], $"failed to set key \"{op.Key}\", index is stale");
                }

                return ([WithoutValue(Set(entries, index, op, existing))], null);

            case "get":
                return existing is null ? ([], $"key \"{op.Key}\" doesn't exist") : ([existing], null);

            case "get-or-empty":
                return ([existing ?? new Entry(op.Key, null, op.Flags, 0, op.Index)], null);

            case "get-tree":
                return (Under(entries, op.Key).ToList(), null);

            case "check-index":
                if (existing is null)
                {
                    return ([], $"failed to check index, key \"{op.Key}\" doesn't exist");
                }

                return existing.ModifyIndex == op.Index
                    ? ([WithoutValue(existing)], null)
                    : ([], $"failed index check for key \"{op.Key}\", current modify index {existing.ModifyIndex} != {op.Index}");

            case "check-not-exists":
                return existing is null ? ([], null) : ([], $"key \"{op.Key}\" exists");

            case "delete":
                Remove(entries, tombstones, op.Key);
                return ([], null);

            case "delete-cas":
                if (existing is not null && existing.ModifyIndex != op.Index)
                {
                    return ([], $"failed to delete key \"{op.Key}\", index is stale");
                }

                Remove(entries, tombstones, op.Key);
                return ([], null);

            case "delete-tree":
                foreach (var key in Under(entries, op.Key).Select(e => e.Key).ToList())
                {
                    Remove(entries, tombstones, key);
                }

                return ([], null);

            case "lock" or "unlock" or "check-session":
                return ([], $"sessions are not implemented by the in-test Consul (verb \"{op.Verb}\")");

            default:
                return ([], $"unknown KV verb \"{op.Verb}\"");
        }
    }

    private Entry Set(SortedDictionary<string, Entry> entries, ulong index, Operation op, Entry? existing)
    {
        if (existing is not null && existing.Flags == op.Flags && SameBytes(existing.Value, op.Value))
        {
            // Consul skips writes that change nothing: the ModifyIndex stays.
            return existing;
        }

        var entry = new Entry(op.Key, op.Value, op.Flags, existing?.CreateIndex ?? index, index);
        entries[op.Key] = entry;
        if (ReferenceEquals(entries, _entries))
        {
            _kvsIndex = index;
        }

        return entry;
    }

    private static void Remove(SortedDictionary<string, Entry> entries, List<string> tombstones, string key)
    {
        if (entries.Remove(key))
        {
            tombstones.Add(key);
        }
    }

    private void Bury(List<string> keys, ulong index)
    {
        foreach (var key in keys)
        {
            _tombstones[key] = index;
            _kvsIndex = index;
        }
    }

    private ulong PrefixIndex(string prefix)
    {
        var index = Under(_entries, prefix).Select(e => e.ModifyIndex).DefaultIfEmpty(0UL).Max();
        foreach (var (key, buried) in _tombstones)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal) && buried > index)
            {
                index = buried;
            }
        }

        return index;
    }

    /// <summary>Falls back to the table's index, and never reports 0 (Consul's HTTP layer turns 0 into 1).</summary>
    private ulong ReportedIndex(ulong index) => Math.Max(index != 0 ? index : _kvsIndex, 1);

    private static IEnumerable<Entry> Under(SortedDictionary<string, Entry> entries, string prefix) =>
        entries.Values.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal));

    private static bool Changed(SortedDictionary<string, Entry> before, SortedDictionary<string, Entry> after) =>
        before.Count != after.Count || before.Any(pair => !after.TryGetValue(pair.Key, out var entry) || !ReferenceEquals(entry, pair.Value));

    private static Entry WithoutValue(Entry entry) => entry with { Value = null };

    private static bool SameBytes(byte[]? left, byte[]? right) => (left ?? []).AsSpan().SequenceEqual(right ?? []);
}
