#!/usr/bin/env bash
# The balancer's hop: wrk posting JSON votes straight to frontend01, and through the load balancer (which spreads
# them over every front end), in alternating rounds so that both see the same machine. Run by ./voting bench
# balancer against what ./voting up started; stop the worker silos first to leave the cores to the vote path.
#
# Every vote is one voter's, from one address: start the system with per-client limits it cannot reach (see
# docs/PERFORMANCE.md, 'Ballot stuffing'), or the rounds measure 429s (the non-2xx column).
#
#   BENCH_CONNECTIONS (64)  wrk connections for the throughput rounds
#   BENCH_SECONDS (15)      length of each round
#   BENCH_ROUNDS (2)        rounds per target
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${VOTING_DATA:-$ROOT/.voting}"
FRONTEND_URL="http://127.0.0.1:$(( ${VOTING_WEB_HTTP_BASE:-8080} + 1 ))"
BALANCER_URL="http://127.0.0.1:${VOTING_BALANCER_PORT:-8080}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
SECONDS_PER_ROUND="${BENCH_SECONDS:-15}"
ROUNDS="${BENCH_ROUNDS:-2}"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

die() { printf 'bench balancer: %s\n' "$*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is needed (apt-get install -y wrk)"
curl -fsS -o /dev/null "$FRONTEND_URL/health/ready" || die "frontend01 is not ready at $FRONTEND_URL: start with ./voting up --detach"
curl -fsS -o /dev/null "$BALANCER_URL/health/ready" || die "the balancer is not ready at $BALANCER_URL"
note_workers
echo "The balancer routes to: $(curl -fsS "$BALANCER_URL/balancer/frontends" | jq -r '[.frontends[] | select(.available) | .id] | join(", ")')"

VOTER_COOKIE=$(voter_cookie "$FRONTEND_URL")
[ -n "$VOTER_COOKIE" ] || die "frontend01 issued no voter cookie"
export VOTER_COOKIE

compare direct "$FRONTEND_URL" balancer "$BALANCER_URL"
