-- wrk script: GET /api/results as many readers, each request from the next client address of 198.18.0.0/16 in
-- X-Forwarded-For (believed from loopback as from a trusted proxy hop), the way bench/vote.lua presents a crowd of
-- voters. The results app's limits per client address (Results:Limits) stay on: spread over 65,536 addresses none is
-- reached, and the reads measured are answered ones. Prints the requests and non-2xx answers at the end.
local addresses = {}
local n = 0

function init(args)
  for i = 0, 65535 do
    addresses[i + 1] = string.format("198.18.%d.%d", math.floor(i / 256), i % 256)
  end
end

function request()
  n = n + 1
  return wrk.format("GET", "/api/results", { ["X-Forwarded-For"] = addresses[(n - 1) % #addresses + 1] })
end

function done(summary, latency, requests)
  io.write(string.format("bench: %d requests, %d non-2xx\n", summary.requests, summary.errors.status))
end
