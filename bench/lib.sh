# Shared by the benchmarks (sourced): ROOT must be set. VOTERS: how many voters the vote rounds speak for
# (BENCH_VOTERS, 30000). ./voting bench passes the system's settings (VOTING_*) on,
# so ./voting status here sees the system the benchmark runs against.

VOTERS="${BENCH_VOTERS:-30000}"
export VOTERS

# running KIND: the names of the running workers or front ends (worker01, ...), as ./voting status lists them.
running() { "$ROOT/voting" status | awk -v kind="$1" '$1 ~ ("^" kind "[0-9]+$") && $2 == "running" { print $1 }'; }

# pid_of NAME: the pid of a running process, as ./voting status shows it.
pid_of() { "$ROOT/voting" status | awk -v name="$1" '$1 == name && $2 == "running" { gsub(/[^0-9]/, "", $4); print $4 }'; }

# note_workers: says when worker silos drain while the vote path is measured.
note_workers() {
  local worker
  for worker in $(running worker); do echo "Note: $worker runs and drains while the vote path is measured."; done
}

# round name url connections seconds [delay ms]: one wrk run of bench/vote.lua as the voters in VOTER_COOKIES;
# prints "name req/s p50 p99 non-2xx", and stops the benchmark when more than 1% of the answers are not 2xx: then it
# would measure refusals (429s when the voters are too few for the per-client limits: raise BENCH_VOTERS), not votes.
round() {
  local out requests refused
  out=$(VOTE_DELAY_MS="${5:-0}" wrk -t1 -c"$3" -d"$4"s --latency -s "$ROOT/bench/vote.lua" "$2")
  read -r requests refused < <(awk '/^bench: / { print $2, $4 }' <<<"$out")
  printf '%-10s %9.0f req/s   p50 %8s   p99 %8s   non-2xx %s\n' "$1" \
    "$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")" \
    "$(awk '$1 == "50%" { print $2 }' <<<"$out")" "$(awk '$1 == "99%" { print $2 }' <<<"$out")" "${refused:-?}"
  if [ -z "${refused:-}" ] || [ $(( refused * 100 )) -gt "${requests:-0}" ]; then
    printf 'bench: %s: %s of %s answers were not 2xx (429: the per-client limits; more voters with BENCH_VOTERS, now %s)\n' \
      "$1" "${refused:-?}" "${requests:-?}" "${VOTERS:-?}" >&2
    exit 1
  fi
}

# mint_voters url file: VOTERS voter identities minted through the vote page at url (bench/mint.lua), one Cookie
# header value a line in file. Each voter may vote 10 times at once and then once every 6 s (the default per-voter
# limit): a run at R votes/s needs some 6 R voters.
mint_voters() {
  local out
  : >"$2"
  out=$(VOTER_COOKIES="$2" wrk -t1 -c16 -d120s -s "$ROOT/bench/mint.lua" "$1/")
  [ "$(wc -l <"$2")" -ge "$VOTERS" ] || { printf 'bench: %s issued %s of %s voter cookies:\n%s\n' "$1" "$(wc -l <"$2")" "$VOTERS" "$out" >&2; exit 1; }
  echo "Minted $(wc -l <"$2") voters at $1 (each votes from an address of its own)."
}

# compare name_a url_a name_b url_b: warm both up, then alternating rounds of each — at full throughput
# (CONNECTIONS connections) and at a paced load (32 connections, 3 ms between requests: a third to a half of what a
# front end takes here) — SECONDS_PER_ROUND long, ROUNDS times. VOTER_COOKIES (the minted voters) must be exported.
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
