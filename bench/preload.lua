-- Appends ARGV[2] votes to the stream KEYS[1] in the front end's wire format (fields id, voter, option, ts, fe), as
-- front end ARGV[4] would: voter ids are unique to the run (ARGV[1], 8 hex digits) and the entry's index; from
-- entry 1,000 on, one entry in ARGV[5] changes the vote of the voter 999 entries earlier to the other option.
-- Entry i is stamped ARGV[6] + i milliseconds, so a change is always later than the vote it replaces.
-- ARGV[3] is the index of the first entry (the script is called in chunks so that Redis keeps answering).
local stream, run, count, first, frontend, change_every = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local fe = tonumber(string.sub(frontend, -2)) or 0
local t0 = tonumber(ARGV[6])
for i = first, first + count - 1 do
  local voter, option = i, (i % 2 == 0) and "a" or "b"
  if change_every > 0 and i % change_every == 0 and i >= 1000 then
    voter = i - 999
    option = (voter % 2 == 0) and "b" or "a"
  end
  redis.call("XADD", stream, "*",
    "id", string.format("%s%04x7%03x%016x", run, fe, 0, i),
    "voter", string.format("%s%04x4%03x%016x", run, fe, 0, voter),
    "option", option,
    "ts", tostring(t0 + i),
    "fe", frontend)
end
return count
