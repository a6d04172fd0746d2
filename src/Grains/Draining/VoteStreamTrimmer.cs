using StackExchange.Redis;

namespace Voting.Grains.Draining;

/// <summary>Removes the stream entries that every consumer group has acknowledged, and nothing else.</summary>
internal static class VoteStreamTrimmer
{
    // For each group, everything older than both its oldest pending entry and its last delivered entry has been
    // acknowledged. The stream is trimmed (approximately: whole nodes only) below the lowest such boundary.
    private const string Script =
        """
        local function older(a, b)
          local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
          local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
          ams, bms = tonumber(ams), tonumber(bms)
          if ams ~= bms then return ams < bms end
          return tonumber(aseq) < tonumber(bseq)
        end
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        local boundary = nil
        for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
          local name, keep
          for i = 1, #group, 2 do
            if group[i] == 'name' then name = group[i + 1] end
            if group[i] == 'last-delivered-id' then keep = group[i + 1] end
          end
          local pending = redis.call('XPENDING', KEYS[1], name)
          if pending[1] > 0 and older(pending[2], keep) then keep = pending[2] end
          if boundary == nil or older(keep, boundary) then boundary = keep end
        end
        if boundary == nil then return 0 end
        return redis.call('XTRIM', KEYS[1], 'MINID', '~', boundary)
        """;

    public static async Task<long> TrimAcknowledgedAsync(IDatabase database, RedisKey stream) =>
        (long)await database.ScriptEvaluateAsync(Script, [stream]);
}
