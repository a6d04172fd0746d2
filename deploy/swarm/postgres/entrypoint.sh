#!/bin/sh
# The votes database as the stack runs it (deploy/swarm/Dockerfile, target postgres): on the first start the data
# directory is initialised, with the superuser's password from POSTGRES_PASSWORD_FILE (a Docker secret) or
# POSTGRES_PASSWORD, password authentication (SCRAM) for every network client and the database POSTGRES_DB created;
# then PostgreSQL runs in the foreground, listening on every interface of the container.
#
# One server at a time on the data directory: Swarm can start a task before the one it replaces on the same node has
# stopped (a node back from a partition), and PostgreSQL's own guard, postmaster.pid, does not see a postmaster in
# another container's process namespace. The server holds an exclusive lock on $PGDATA while it runs (descriptor 9 is
# inherited through exec); a second one waits for it.
set -eu

exec 9<"$PGDATA"
if ! flock --nonblock 9; then
  echo "voting-postgres: another PostgreSQL server is using $PGDATA; waiting until it stops" >&2
  flock 9
  echo "voting-postgres: $PGDATA is free; starting" >&2
fi

: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
  password=$(cat "$POSTGRES_PASSWORD_FILE")
else
  password=${POSTGRES_PASSWORD:-}
fi
[ -n "$password" ] || { echo "voting-postgres: POSTGRES_PASSWORD_FILE or POSTGRES_PASSWORD must give the password" >&2; exit 1; }

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "voting-postgres: initialising $PGDATA"
  passwords=$(mktemp)
  printf '%s\n' "$password" > "$passwords"
  initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$passwords" -E UTF8 --auth-local=trust --auth-host=scram-sha-256
  rm -f "$passwords"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != postgres ]; then
    echo "CREATE DATABASE \"$POSTGRES_DB\"" | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
fi

exec postgres -D "$PGDATA" -c listen_addresses='*'
