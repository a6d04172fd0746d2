-- wrk script: POST /api/votes as one voter (the cookie from VOTER_COOKIE), alternating options.
-- With VOTE_DELAY_MS set, each connection waits that long between requests (a paced run, for latency at a set load).
local cookie = os.getenv("VOTER_COOKIE") or error("VOTER_COOKIE is not set")
local delay_ms = tonumber(os.getenv("VOTE_DELAY_MS") or "0")
local bodies = { '{"option":"a"}', '{"option":"b"}' }
local n = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = cookie

function request()
  n = n + 1
  return wrk.format(nil, "/api/votes", nil, bodies[n % 2 + 1])
end

function delay()
  return delay_ms
end

