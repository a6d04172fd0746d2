-- wrk script: POST /api/votes as many voters, each from a client address of its own, the way the load tool presents a
-- crowd: the voter cookies come from VOTER_COOKIES (one Cookie header value a line, minted by bench/mint.lua), taken
-- in turn; voter i votes from 198.18.x.y, address i of 198.18.0.0/16, in X-Forwarded-For (believed from loopback as
-- from a trusted proxy hop). The per-client limits stay on: with enough voters (BENCH_VOTERS) none is reached, and the
-- votes measured are accepted ones. With VOTE_DELAY_MS set, each connection waits that long between requests (a paced
-- run, for latency at a set load). Prints the requests and non-2xx answers at the end, for bench/lib.sh to check.
local file = os.getenv("VOTER_COOKIES") or error("VOTER_COOKIES is not set")
local delay_ms = tonumber(os.getenv("VOTE_DELAY_MS") or "0")
local bodies = { '{"option":"a"}', '{"option":"b"}' }
local cookies, addresses = {}, {}
local n = 0

function init(args)
  for line in io.lines(file) do
    cookies[#cookies + 1] = line
    local i = #cookies % 65536
    addresses[#cookies] = string.format("198.18.%d.%d", math.floor(i / 256), i % 256)
  end
  if #cookies == 0 then error("no voter cookie in " .. file) end
end

function request()
  n = n + 1
  local i = (n - 1) % #cookies + 1
  return wrk.format("POST", "/api/votes", {
    ["Content-Type"] = "application/json",
    ["Cookie"] = cookies[i],
    ["X-Forwarded-For"] = addresses[i],
  }, bodies[n % 2 + 1])
end

function delay()
  return delay_ms
end

function done(summary, latency, requests)
  io.write(string.format("bench: %d requests, %d non-2xx\n", summary.requests, summary.errors.status))
end
