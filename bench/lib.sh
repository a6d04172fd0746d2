# Shared by the wrk benchmarks (sourced): ROOT must be set.

# round name url connections seconds [delay ms]: one wrk run of bench/vote.lua; prints "name req/s p50 p99 non-2xx".
round() {
  local out
  out=$(VOTE_DELAY_MS="${5:-0}" wrk -t1 -c"$3" -d"$4"s --latency -s "$ROOT/bench/vote.lua" "$2")
  printf '%-10s %9.0f req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$1" \
    "$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")" \
    "$(awk '$1 == "50%" { print $2 }' <<<"$out")" "$(awk '$1 == "99%" { print $2 }' <<<"$out")" \
    "$(awk '/Non-2xx/ { print $5 }' <<<"$out" | grep . || echo 0)"
}

# voter_cookie url: the voter_id cookie the page at url issues, as a Cookie header value.
voter_cookie() {
  curl -fsS -c - -o /dev/null "$1/" | awk '$6 == "voter_id" { print "voter_id=" $7 }'
}
