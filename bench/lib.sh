# Shared by the benchmarks (sourced): ROOT must be set. ./voting bench passes the system's settings (VOTING_*) on,
# so ./voting status here sees the system the benchmark runs against.

# running KIND: the names of the running workers or front ends (worker01, ...), as ./voting status lists them.
running() { "$ROOT/voting" status | awk -v kind="$1" '$1 ~ ("^" kind "[0-9]+$") && $2 == "running" { print $1 }'; }

# pid_of NAME: the pid of a running process, as ./voting status shows it.
pid_of() { "$ROOT/voting" status | awk -v name="$1" '$1 == name && $2 == "running" { gsub(/[^0-9]/, "", $4); print $4 }'; }

# note_workers: says when worker silos drain while the vote path is measured.
note_workers() {
  local worker
  for worker in $(running worker); do echo "Note: $worker runs and drains while the vote path is measured."; done
}

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

# compare name_a url_a name_b url_b: warm both up, then alternating rounds of each — at full throughput
# (CONNECTIONS connections) and at a paced load (32 connections, 3 ms between requests: a third to a half of what a
# front end takes here) — SECONDS_PER_ROUND long, ROUNDS times. VOTER_COOKIE must be exported.
compare() {
  local r
  echo "Warming up (10 s each)..."
  round warm-up "$2" "$CONNECTIONS" 10 >/dev/null
  round warm-up "$4" "$CONNECTIONS" 10 >/dev/null
  echo "Throughput, wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_ROUND}s, POST /api/votes:"
  for r in $(seq "$ROUNDS"); do
    round "$1" "$2" "$CONNECTIONS" "$SECONDS_PER_ROUND"
    round "$3" "$4" "$CONNECTIONS" "$SECONDS_PER_ROUND"
  done
  echo "Latency at a paced load, wrk -t1 -c32, 3 ms between requests per connection:"
  for r in $(seq "$ROUNDS"); do
    round "$1" "$2" 32 "$SECONDS_PER_ROUND" 3
    round "$3" "$4" 32 "$SECONDS_PER_ROUND" 3
  done
}
