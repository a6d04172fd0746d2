#!/usr/bin/env bash
# The balancer's hop: wrk posting JSON votes straight to frontend01, and through the load balancer (which spreads
# them over every front end), in alternating rounds so that both see the same machine. Run by ./voting bench
# balancer against what ./voting up started; stop the worker silos first to leave the cores to the vote path.
#
# The votes are a crowd's, with the per-client limits on as in production: BENCH_VOTERS voters minted through the
# vote page, each voting from a client address of its own (X-Forwarded-For from loopback, a trusted hop), as the load
# tool presents them. A round with more than 1% non-2xx answers (429s: too few voters for the rate) stops the run.
#
#   BENCH_VOTERS (30000)    voters minted for the rounds (about 6 per vote a second)
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

VOTER_COOKIES="$DATA/run/bench-voters"
mint_voters "$FRONTEND_URL" "$VOTER_COOKIES"
export VOTER_COOKIES

compare direct "$FRONTEND_URL" balancer "$BALANCER_URL"
