#!/usr/bin/env bash
# TLS at the edge: wrk posting JSON votes through the system's load balancer over plain HTTP, and through a second
# balancer — the same application beside it, routing to the same front ends — that terminates TLS (a self-signed
# ECDSA P-256 certificate, TLS 1.3), in alternating rounds so that both see the same machine: the only difference
# is TLS. Run by ./voting bench tls against what ./voting up started (without --tls), which starts the TLS balancer
# and passes its address in BENCH_TLS_URL. wrk does not check certificates; the address is this machine's own.
#
# The votes are a crowd's, with the per-client limits on as in production: BENCH_VOTERS voters minted through the
# vote page, each voting from a client address of its own (X-Forwarded-For from loopback, a trusted hop). A round
# with more than 1% non-2xx answers stops the run.
#
#   BENCH_VOTERS (30000)    voters minted for the rounds (about 6 per vote a second)
#   BENCH_CONNECTIONS (64)  wrk connections for the throughput rounds
#   BENCH_SECONDS (15)      length of each round
#   BENCH_ROUNDS (2)        rounds per target
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${VOTING_DATA:-$ROOT/.voting}"
BALANCER_URL="http://127.0.0.1:${VOTING_BALANCER_PORT:-8080}"
TLS_URL="${BENCH_TLS_URL:?BENCH_TLS_URL is not set (./voting bench tls sets it)}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
SECONDS_PER_ROUND="${BENCH_SECONDS:-15}"
ROUNDS="${BENCH_ROUNDS:-2}"
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

die() { printf 'bench tls: %s\n' "$*" >&2; exit 1; }
command -v wrk >/dev/null || die "wrk is needed (apt-get install -y wrk)"
curl -fsS -o /dev/null "$BALANCER_URL/health/ready" || die "the balancer is not ready at $BALANCER_URL: start with ./voting up --detach"
note_workers

VOTER_COOKIES="$DATA/run/bench-voters"
mint_voters "$BALANCER_URL" "$VOTER_COOKIES"
export VOTER_COOKIES

compare http "$BALANCER_URL" https "$TLS_URL"
