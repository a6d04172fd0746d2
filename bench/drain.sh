#!/usr/bin/env bash
# The drain path, end to end: votes waiting in every front end's Redis stream -> voter-identity shards ->
# PostgreSQL -> XACK. Run by ./voting bench drain [votes per front end] against what ./voting up started.
#
# It stops the worker silos, appends the votes to each front end's stream in the front ends' wire format (one in
# five changes the vote of a voter seen 999 entries earlier), starts one worker silo and times the drainers from
# the first commit to the last. Then it checks that PostgreSQL holds exactly one row per voter of the run with the
# latest choice, and that the tallies still equal count(*) over votes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="${VOTING_DATA:-$ROOT/.voting}"
PG_PORT="${VOTING_PG_PORT:-5433}"
REDIS_BASE="${VOTING_REDIS_BASE:-6380}"
WORKER_HTTP_BASE="${VOTING_WORKER_HTTP_BASE:-8069}"
MANAGEMENT_OFFSET="${VOTING_MANAGEMENT_OFFSET:-1000}"
PER_FRONTEND="${1:-500000}"
CHANGE_EVERY=5
CHUNK=50000

die() { printf 'bench drain: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

psql_voting() { psql -h 127.0.0.1 -p "$PG_PORT" -U voting -d voting -tAX -c "$1"; }

[[ "$PER_FRONTEND" =~ ^[0-9]+$ ]] && [ "$PER_FRONTEND" -ge 1000 ] || die "votes per front end must be a number >= 1000 (got '$PER_FRONTEND')"
command -v jq >/dev/null || die "jq is needed (apt-get install -y jq)"
frontends=$(running frontend | sed 's/^frontend//')
[ -n "$frontends" ] || die "no front end runs: start with ./voting up --detach"

echo "Stopping the worker silos..."
for worker in $(running worker); do "$ROOT/voting" stop "$worker" >/dev/null; done

run=$(printf '%08x' "$(date +%s)")
t0=$(( $(date +%s%3N) - 86400000 ))   # a day back: every preloaded vote is older than any vote a person casts now
echo "Appending $PER_FRONTEND votes to each front end's stream (run $run)..."
for i in $frontends; do
  port=$((REDIS_BASE + 10#$i)); fe="frontend$i"
  for ((first = 0; first < PER_FRONTEND; first += CHUNK)); do
    n=$(( PER_FRONTEND - first < CHUNK ? PER_FRONTEND - first : CHUNK ))
    redis-cli -p "$port" EVAL "$(cat "$ROOT/bench/preload.lua")" 1 votes "$run" "$n" "$first" "$fe" "$CHANGE_EVERY" "$t0" >/dev/null
  done
  echo "  $fe: stream length $(redis-cli -p "$port" XLEN votes), Redis memory $(redis-cli -p "$port" INFO memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')"
done
count=$(echo "$frontends" | wc -w)
total=$((PER_FRONTEND * count))

echo "Starting one worker silo; draining $total votes..."
"$ROOT/voting" add worker >/dev/null
worker_pid=$(pid_of worker01)
# /api/drainers is a management surface: the worker's management port, with the token ./voting keeps.
url="http://127.0.0.1:$((WORKER_HTTP_BASE + 1 + MANAGEMENT_OFFSET))/api/drainers"
token_header="Authorization: Bearer $(cat "$DATA/management.token")"
deadline=$(( $(date +%s) + 1800 ))
while :; do
  status=$(curl -fsS --max-time 5 -H "$token_header" "$url" || echo '[]')
  read_so_far=$(jq '[.[] | .entriesRead] | add // 0' <<<"$status")
  waiting=$(jq '[.[] | select(.lastError == null) | .backlog + .pending] | add // 0' <<<"$status")
  [ -t 1 ] && printf "\r  read %d of %d, waiting %d   " "$read_so_far" "$total" "$waiting"
  [ "$read_so_far" -ge "$total" ] && [ "$waiting" -eq 0 ] && break
  [ "$(date +%s)" -lt "$deadline" ] || die "not drained after 30 minutes"
  sleep 1
done
echo

hwm_kib=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$worker_pid/status")
rss_kib=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$worker_pid/status")
jq -r --argjson total "$total" '
  def secs: sub("\\.[0-9]+"; "") | sub("\\+00:00$"; "Z") | fromdateiso8601;
  def precise: capture("T(?<h>[0-9]+):(?<m>[0-9]+):(?<s>[0-9.]+)") | (.h|tonumber)*3600 + (.m|tonumber)*60 + (.s|tonumber);
  (map(select(.firstCommitAt != null))) as $d
  | ($d | map(.firstCommitAt | precise) | min) as $first
  | ($d | map(.lastCommitAt | precise) | max) as $last
  | "  \($total) votes in \(($last - $first) * 1000 | round / 1000) s from the first commit to the last: \(($total / ($last - $first)) | round) votes/s",
    "  batches: \($d | map(.batchesCommitted) | add), rows changed: \($d | map(.votesWritten) | add)"' <<<"$status"
echo "  worker silo memory: peak RSS $((hwm_kib / 1024)) MiB, now $((rss_kib / 1024)) MiB"

lo="${run}-0000-0000-0000-000000000000"; hi="${run}-ffff-ffff-ffff-ffffffffffff"
expected_voters=$(( total - count * ((PER_FRONTEND - 1) / CHANGE_EVERY - 1000 / CHANGE_EVERY + 1) ))
voters=$(psql_voting "SELECT count(*) FROM votes WHERE voter_id BETWEEN '$lo' AND '$hi'")
# Voter v (the id's last 16 hex digits) voted a if v is even, b if odd; voters v = 1 (mod 5) changed their vote
# at entry v + 999 when the run reached it.
wrong=$(psql_voting "SELECT count(*) FROM (SELECT option, ('x' || right(replace(voter_id::text, '-', ''), 16))::bit(64)::bigint AS v
  FROM votes WHERE voter_id BETWEEN '$lo' AND '$hi') r
  WHERE option <> CASE WHEN (v % 2 = 0) <> (v % $CHANGE_EVERY = 1 AND v + 999 < $PER_FRONTEND) THEN 'a' ELSE 'b' END")
mismatch=$(psql_voting "SELECT count(*) FROM (SELECT option, count(*) AS n FROM votes GROUP BY option) v
  FULL JOIN (SELECT option, sum(count) AS n FROM tallies GROUP BY option) t USING (option) WHERE v.n IS DISTINCT FROM t.n AND coalesce(t.n, 0) <> 0")
echo "  voters of the run in PostgreSQL: $voters (expected $expected_voters), with another choice than their latest: $wrong"
echo "  options whose tally differs from count(*) over votes: $mismatch"
[ "$voters" -eq "$expected_voters" ] && [ "$wrong" -eq 0 ] && [ "$mismatch" -eq 0 ] || die "the drained votes do not match what was appended"
