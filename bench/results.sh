#!/usr/bin/env bash
# The results read: GET /api/results on the results app (it reads the tallies, never count(*) over votes) with
# wrk, at whatever number of voters PostgreSQL holds (./voting bench drain adds millions). Run by ./voting bench results.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RESULTS_URL="http://127.0.0.1:${VOTING_RESULTS_PORT:-8090}"
PG_PORT="${VOTING_PG_PORT:-5433}"
SECONDS_PER_ROUND="${BENCH_SECONDS:-15}"

die() { printf 'bench results: %s\n' "$*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is needed (apt-get install -y wrk)"
curl -fsS -o /dev/null "$RESULTS_URL/health/live" || die "the results app does not answer at $RESULTS_URL: start with ./voting up --detach"

echo "Voters in PostgreSQL: $(psql -h 127.0.0.1 -p "$PG_PORT" -U voting -d voting -tAX -c 'SELECT count(*) FROM votes')"
echo "GET /api/results answers: $(curl -fsS "$RESULTS_URL/api/results")"
# Many readers, each request from an address of its own (bench/readers.lua): the limits per client address stay on.
wrk -t1 -c4 -d5s -s "$ROOT/bench/readers.lua" "$RESULTS_URL/api/results" >/dev/null
for c in 1 16; do
  out=$(wrk -t1 -c"$c" -d"$SECONDS_PER_ROUND"s --latency -s "$ROOT/bench/readers.lua" "$RESULTS_URL/api/results")
  refused=$(awk '/^bench:/ { print $4 }' <<<"$out")
  [[ "${refused:-0}" == 0 ]] || die "$refused answers were not 2xx (limited, or PostgreSQL unreachable): the figures would not be reads"
  printf 'wrk -t1 -c%-3s %8.0f req/s   p50 %8s   p99 %8s\n' "$c" "$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")" \
    "$(awk '$1 == "50%" { print $2 }' <<<"$out")" "$(awk '$1 == "99%" { print $2 }' <<<"$out")"
done
