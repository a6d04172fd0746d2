#!/usr/bin/env bash
# The accept path: wrk posting JSON votes to one front end, next to a bare Kestrel + XADD application (the floor any
# front end must pay per vote) on the same Redis, in alternating rounds so that both see the same machine.
# Run by ./voting bench accept against what ./voting up started. Stop the worker silos first if the front end
# should have the cores to itself (the script says whether any runs).
#
# The votes are a crowd's, with the per-client limits on as in production: BENCH_VOTERS voters minted through the
# vote page, each voting from a client address of its own (X-Forwarded-For from loopback, a trusted hop), as the load
# tool presents them. A round with more than 1% non-2xx answers (429s: too few voters for the rate) stops the run.
#
#   BENCH_VOTERS (30000)    voters minted for the rounds (about 6 per vote a second)
#   BENCH_CONNECTIONS (64)  wrk connections for the throughput rounds
#   BENCH_SECONDS (15)      length of each round
#   BENCH_ROUNDS (2)        rounds per application
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${VOTING_DATA:-$ROOT/.voting}"
FRONTEND_URL="http://127.0.0.1:$(( ${VOTING_WEB_HTTP_BASE:-8080} + 1 ))"
REDIS_PORT=$(( ${VOTING_REDIS_BASE:-6380} + 1 ))
BASELINE_PORT="${BENCH_BASELINE_PORT:-8099}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
SECONDS_PER_ROUND="${BENCH_SECONDS:-15}"
ROUNDS="${BENCH_ROUNDS:-2}"
CONFIGURATION="${VOTING_CONFIGURATION:-Release}"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

die() { printf 'bench accept: %s\n' "$*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is needed (apt-get install -y wrk)"
curl -fsS -o /dev/null "$FRONTEND_URL/health/live" || die "frontend01 does not answer at $FRONTEND_URL: start with ./voting up --detach"
note_workers

curl -s -o /dev/null "http://127.0.0.1:$BASELINE_PORT/" && die "port $BASELINE_PORT is taken (BENCH_BASELINE_PORT picks another)"
dotnet build "$ROOT/bench/AcceptBaseline" -c "$CONFIGURATION" -nologo -v quiet >/dev/null || die "the baseline does not build"
# frontend01's Redis runs with ACL users only (the default user is off): the baseline connects as the operator, whose
# password ./voting up keeps in the data directory (the front end's user may append to its own stream alone). In the
# environment, not on the command line, where any user's ps would show it.
Redis="127.0.0.1:$REDIS_PORT,user=voting-operator,password=$(cat "$DATA/redis-operator.password")" \
  dotnet "$ROOT/bench/AcceptBaseline/bin/$CONFIGURATION/net10.0/Voting.Bench.AcceptBaseline.dll" \
  --urls "http://127.0.0.1:$BASELINE_PORT" >"$DATA/logs/bench-baseline.log" 2>&1 &
baseline=$!
trap 'kill $baseline 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS -o /dev/null -X POST "http://127.0.0.1:$BASELINE_PORT/api/votes" 2>/dev/null && break
  kill -0 "$baseline" 2>/dev/null || die "the baseline exited; see $DATA/logs/bench-baseline.log"
  sleep 0.2
done

VOTER_COOKIES="$DATA/run/bench-voters"
mint_voters "$FRONTEND_URL" "$VOTER_COOKIES"
export VOTER_COOKIES

compare baseline "http://127.0.0.1:$BASELINE_PORT" frontend "$FRONTEND_URL"
