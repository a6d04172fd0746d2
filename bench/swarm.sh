#!/usr/bin/env bash
# The Swarm beside one machine's processes: the same figures for the stack on the Docker-in-Docker Swarm of
# ./voting swarm up and for the processes of ./voting up, in alternating rounds so that both see the same machine.
# Run by ./voting swarm bench, which passes the addresses of both (and starts ./voting up's system if none runs):
#
#   SWARM_VOTE, SWARM_RESULTS, SWARM_WORKER   the Swarm's balancer, results app and a worker's management port (its /api/drainers)
#   SWARM_TOKEN, LOCAL_TOKEN                  the management tokens /api/drainers requires
#   LOCAL_VOTE, LOCAL_RESULTS, LOCAL_WORKER   the same of ./voting up
#   BENCH_CONNECTIONS (64)  wrk connections for the vote rounds
#   BENCH_SECONDS (15)      length of each round
#   BENCH_ROUNDS (2)        rounds per system
#
#   BENCH_VOTERS (30000)    voters minted on each system (the per-client limits stay on: each votes from an address of its own)
#
# Per round and system: votes/s through the balancer (wrk posting JSON votes as a crowd of voters), the drain rate (stream
# entries the drainers read from the start of that burst until nothing waits, over that time) and the results API's
# latency (GET /api/results, 4 connections).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
SECONDS_PER_ROUND="${BENCH_SECONDS:-15}"
ROUNDS="${BENCH_ROUNDS:-2}"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

die() { printf 'bench swarm: %s\n' "$*" >&2; exit 1; }
for v in SWARM_VOTE SWARM_RESULTS SWARM_WORKER SWARM_TOKEN LOCAL_VOTE LOCAL_RESULTS LOCAL_WORKER LOCAL_TOKEN; do
  [ -n "${!v:-}" ] || die "$v is not set (./voting swarm bench sets it)"
done

# entries WORKER TOKEN: entries read and still waiting, summed over the drainers the worker lists ("read waiting").
entries() { curl -fsS --max-time 10 -H "Authorization: Bearer $2" "$1/api/drainers" | jq -r '[([.[] | .entriesRead] | add // 0), ([.[] | .backlog + .pending] | add // 0)] | @tsv'; }

# drain NAME WORKER READ_BEFORE T0_MS TOKEN: waits until nothing waits; prints the drain rate since T0.
drain() {
  local read waiting now deadline=$(( $(date +%s) + 600 ))
  while :; do
    read -r read waiting <<<"$(entries "$2" "$5")"
    [ "$waiting" -eq 0 ] && break
    [ "$(date +%s)" -lt "$deadline" ] || die "$1: the drainers did not catch up in 10 minutes"
    sleep 0.2
  done
  now=$(date +%s%3N)
  printf '%-10s drain %9.0f entries/s   (%d entries in %.1f s)\n' "$1" \
    "$(awk -v n=$(( read - $3 )) -v ms=$(( now - $4 )) 'BEGIN { print n * 1000 / ms }')" $(( read - $3 )) "$(awk -v ms=$(( now - $4 )) 'BEGIN { print ms / 1000 }')"
}

# results NAME URL: GET /api/results with 4 connections, each request from an address of its own (bench/readers.lua):
# the results app's limits per client address stay on.
results() {
  local out refused
  out=$(wrk -t1 -c4 -d"$SECONDS_PER_ROUND"s --latency -s "$ROOT/bench/readers.lua" "$2/api/results")
  refused=$(awk '/^bench:/ { print $4 }' <<<"$out")
  [[ "${refused:-0}" == 0 ]] || die "$1: $refused results answers were not 2xx: the figures would not be reads"
  printf '%-10s results %7.0f req/s   p50 %8s   p99 %8s\n' "$1" "$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")" \
    "$(awk '$1 == "50%" { print $2 }' <<<"$out")" "$(awk '$1 == "99%" { print $2 }' <<<"$out")"
}

# measure NAME VOTE RESULTS WORKER TOKEN: one round of all three on one system.
measure() {
  local before t0
  read -r before _ <<<"$(entries "$4" "$5")"
  t0=$(date +%s%3N)
  VOTER_COOKIES="$WORK/$1-voters" round "$1" "$2" "$CONNECTIONS" "$SECONDS_PER_ROUND"
  drain "$1" "$4" "$before" "$t0" "$5"
  results "$1" "$3"
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mint_voters "$SWARM_VOTE" "$WORK/swarm-voters"
mint_voters "$LOCAL_VOTE" "$WORK/local-voters"
echo "Warming up (10 s each)..."
VOTER_COOKIES="$WORK/swarm-voters" round warm-up "$SWARM_VOTE" "$CONNECTIONS" 10 >/dev/null
VOTER_COOKIES="$WORK/local-voters" round warm-up "$LOCAL_VOTE" "$CONNECTIONS" 10 >/dev/null
echo "Votes through the balancer (wrk -t1 -c$CONNECTIONS -d${SECONDS_PER_ROUND}s, POST /api/votes), the drain, the results API:"
for r in $(seq "$ROUNDS"); do
  measure swarm "$SWARM_VOTE" "$SWARM_RESULTS" "$SWARM_WORKER" "$SWARM_TOKEN"
  measure local "$LOCAL_VOTE" "$LOCAL_RESULTS" "$LOCAL_WORKER" "$LOCAL_TOKEN"
done
