-- wrk script: mints VOTERS voter identities (GET /, the only place one is issued), each from a client address of its
-- own in 198.19.0.0/16 (X-Forwarded-For, believed from loopback as from a trusted proxy hop), as a crowd's browsers
-- would get them: one address never asks for more than the per-address identity limit allows. Appends each voter
-- cookie, as a Cookie header value (name=value), to the file VOTER_COOKIES, and stops once it has VOTERS.
local file = os.getenv("VOTER_COOKIES") or error("VOTER_COOKIES is not set")
local wanted = tonumber(os.getenv("VOTERS") or "30000")
local out, sent, got = nil, 0, 0

function init(args)
  out = assert(io.open(file, "a"))
  out:setvbuf("line")
end

function request()
  sent = sent + 1
  local n = sent % 65536
  return wrk.format("GET", "/", { ["X-Forwarded-For"] = string.format("198.19.%d.%d", math.floor(n / 256), n % 256) })
end

function response(status, headers, body)
  local cookie = headers["Set-Cookie"] or headers["set-cookie"]
  if status == 200 and cookie then
    local pair = cookie:match("^([^;]+)")
    if pair then
      out:write(pair, "\n")
      got = got + 1
    end
  end
  if got >= wanted then
    out:flush()
    wrk.thread:stop()
  end
end
