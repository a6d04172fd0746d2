#!/bin/sh
# The votes database as the stack runs it (deploy/swarm/Dockerfile, target postgres): one member of a pg_auto_failover
# formation — its monitor (VOTING_PG_ROLE=monitor) or one of its two data nodes (VOTING_PG_ROLE=node), each a
# pg_autoctl keeper that runs its own PostgreSQL. The first node to register becomes the primary, the other its
# synchronous standby; when the primary stops answering the monitor promotes the standby, and a node that comes back
# rejoins as the new standby (pg_rewind). The applications follow the primary with a multi-host connection string.
#
# Settings (the stack's environment; anything missing or malformed stops the container at once, naming it):
#   VOTING_PG_ROLE      monitor | node
#   VOTING_PG_NAME      this member's name: its service's name (pgmonitor, postgres01, postgres02)
#   VOTING_PG_HOSTNAME  the host name the other members reach it by [VOTING_PG_NAME]: a member on more than one network
#                       gives its name on the store network (postgres01.voting_store-plain), since Swarm's DNS answers a
#                       bare service name with its address on any network the asker shares, and pg_hba.conf admits
#                       pg_auto_failover's users from the store network only
#   VOTING_PG_NETWORK   the subnet the stack's services connect from (the store network's, 10.0.12.0/24): pg_hba.conf
#                       admits connections from it only
#   VOTING_PG_HOME      the service's volume [/var/lib/postgresql/ha]: the data directory and pg_autoctl's
#                       configuration and state, so that a new task keeps the member's identity
#   VOTING_PG_MONITOR   (node) the monitor's host name
#   VOTING_PG_CREATE_AFTER (node, optional) on the first start, register only once this node has: which node is the
#                       primary at creation
#   VOTING_PG_OPERATORS (node) the operators' network's subnet (10.0.13.0/24): its containers (./voting swarm's tunnels)
#                       may sign in as POSTGRES_USER, nobody else from there
#   POSTGRES_USER, POSTGRES_DB, POSTGRES_PASSWORD_FILE (node) the operators' user (a superuser, as with the public
#                       postgres image: no application has it), its password (a Docker secret) and the database
#   VOTING_PG_ROLE_PASSWORDS a directory with the passwords, one file each (Docker secrets): on every member
#                       voting_postgres_autoctl_password, pg_auto_failover's autoctl_node (the keepers' user on the
#                       monitor); on a node also voting_postgres_replication_password, its replication user
#                       pgautofailover_replicator (a superuser: pg_rewind needs one), and the services' login roles'
#                       voting_postgres_owner_password, ..._worker_, ..._web_, ..._results_, ..._balancer_: the roles
#                       voting_owner (the schema's owner, which owns POSTGRES_DB), voting_worker, voting_web,
#                       voting_results and voting_balancer, whose grants the migrations give (docs/SECURITY.md)
#
# Authentication (pg_hba.conf is ours: pg_autoctl runs with --skip-pg-hba, since PostgreSQL matches host names in
# pg_hba.conf by reverse DNS, which on an overlay network gives task names, not service names), every password SCRAM:
# the applications' roles from VOTING_PG_NETWORK, the operators' user also from VOTING_PG_OPERATORS; pg_auto_failover's
# replication user (streaming replication, base backups, pg_rewind) and, on the monitor, its keepers' autoctl_node
# from VOTING_PG_NETWORK, with the passwords of the secrets, which this script sets on the roles and gives the
# keeper's PostgreSQL clients in a password file (PGPASSFILE: pg_basebackup, pg_rewind, the standby's WAL receiver,
# the connections to the monitor). The monitor's health checks alone connect without one: pg_auto_failover sends a
# fixed, published password for its pgautofailover_monitor role (no privileges), so it is admitted to the postgres
# database only, where the health check connects. The postgres superuser only inside the container, over its Unix
# socket.
#
# One server at a time on the volume: Swarm can start a task before the one it replaces on the same node has stopped
# (a node back from a partition), and PostgreSQL's own guard, postmaster.pid, does not see a postmaster in another
# container's process namespace. pg_autoctl and its PostgreSQL hold an exclusive lock on the volume while they run
# (descriptor 9, inherited); a second one waits for them.
set -eu

fail() {
  echo "voting-postgres: $*" >&2
  exit 1
}

role=${VOTING_PG_ROLE:-}
name=${VOTING_PG_NAME:-}
network=${VOTING_PG_NETWORK:-}
home=${VOTING_PG_HOME:-/var/lib/postgresql/ha}
port=5432
case "$role" in
  monitor | node) ;;
  *) fail "VOTING_PG_ROLE must be 'monitor' or 'node', not '$role'" ;;
esac
echo "$name" | grep -Eq '^[a-z][a-z0-9-]{0,62}$' || fail "VOTING_PG_NAME must be this member's service name (e.g. postgres01), not '$name'"
hostname=${VOTING_PG_HOSTNAME:-$name}
echo "$hostname" | grep -Eq '^[a-z][a-z0-9-]{0,62}(\.[a-z0-9][a-z0-9_-]{0,62})?$' \
  || fail "VOTING_PG_HOSTNAME must be this member's service name, optionally qualified with its network's (e.g. postgres01.voting_store-plain), not '$hostname'"
echo "$network" | grep -Eq '^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$' || fail "VOTING_PG_NETWORK must be the stack network's subnet (e.g. 10.0.9.0/24), not '$network'"
[ -d "$home" ] && [ -w "$home" ] || fail "VOTING_PG_HOME ($home) must be a directory the postgres user can write: the service's volume"
passwords=${VOTING_PG_ROLE_PASSWORDS:-}
# The passwords this member needs: autoctl_node's on every member, the replication user's and the services' on a node.
needed=autoctl
[ "$role" = monitor ] || needed="autoctl replication owner worker web results balancer"
for key in $needed; do
  [ -s "$passwords/voting_postgres_${key}_password" ] \
    || fail "VOTING_PG_ROLE_PASSWORDS ($passwords) must hold voting_postgres_${key}_password (a Docker secret)"
done
secret() {
  cat "$passwords/voting_postgres_$1_password"
}
if [ "$role" = node ]; then
  monitor=${VOTING_PG_MONITOR:-}
  echo "$monitor" | grep -Eq '^[a-z][a-z0-9-]{0,62}$' || fail "VOTING_PG_MONITOR must be the monitor's service name (e.g. pgmonitor), not '$monitor'"
  user=${POSTGRES_USER:-}
  database=${POSTGRES_DB:-$user}
  echo "$user" | grep -Eq '^[a-z_][a-z0-9_]{0,62}$' || fail "POSTGRES_USER must name the applications' user (e.g. voting), not '$user'"
  echo "$database" | grep -Eq '^[a-z_][a-z0-9_]{0,62}$' || fail "POSTGRES_DB must name the applications' database (e.g. voting), not '$database'"
  [ -n "${POSTGRES_PASSWORD_FILE:-}" ] && [ -r "$POSTGRES_PASSWORD_FILE" ] || fail "POSTGRES_PASSWORD_FILE must name a readable file with the applications' password (a Docker secret), not '${POSTGRES_PASSWORD_FILE:-}'"
  password=$(cat "$POSTGRES_PASSWORD_FILE")
  [ -n "$password" ] || fail "POSTGRES_PASSWORD_FILE ($POSTGRES_PASSWORD_FILE) is empty"
  after=${VOTING_PG_CREATE_AFTER:-}
  operators=${VOTING_PG_OPERATORS:-}
  echo "$operators" | grep -Eq '^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$' || fail "VOTING_PG_OPERATORS must be the operators network's subnet (e.g. 10.0.13.0/24), not '$operators'"
  roles="owner worker web results balancer"
fi

exec 9<"$home"
if ! flock --nonblock 9; then
  echo "voting-postgres: another server is using $home; waiting until it stops" >&2
  flock 9
  echo "voting-postgres: $home is free; starting" >&2
fi

export PGDATA="$home/pgdata" XDG_CONFIG_HOME="$home/config" XDG_DATA_HOME="$home/share"
# pg_autoctl's pid file: the container's own, never one a killed container left behind.
export XDG_RUNTIME_DIR=/tmp/pg_autoctl
mkdir -p "$XDG_RUNTIME_DIR"
# pg_auto_failover's passwords for the PostgreSQL clients pg_autoctl and its PostgreSQL run (libpq's password file,
# the container's own, never on the volume): autoctl_node's for the connections to the monitor, the replication
# user's for the base backup, pg_rewind and the standby's WAL receiver. A field's ':' and '\' are escaped.
pgpass_field() {
  printf %s "$1" | sed 's/[\\:]/\\&/g'
}
export PGPASSFILE="$XDG_RUNTIME_DIR/pgpass"
(
  umask 077
  {
    echo "*:*:pg_auto_failover:autoctl_node:$(pgpass_field "$(secret autoctl)")"
    [ "$role" = monitor ] || echo "*:*:*:pgautofailover_replicator:$(pgpass_field "$(secret replication)")"
  } >"$PGPASSFILE"
)
config="$XDG_CONFIG_HOME/pg_autoctl$PGDATA/pg_autoctl.cfg"
local_psql() {
  psql -X -q -At -h /var/run/postgresql -p "$port" "$@"
}

# The rules, written on every start (and, on the first, as soon as initdb has made the data directory).
hba=$(mktemp)
{
  echo "# Written by deploy/swarm/postgres/entrypoint.sh on every start: pg_autoctl runs with --skip-pg-hba."
  echo "local all all trust"
  echo "host all all 127.0.0.1/32 trust"
  if [ "$role" = monitor ]; then
    echo "host pg_auto_failover autoctl_node $network scram-sha-256"
  else
    echo "host replication pgautofailover_replicator $network scram-sha-256"
    echo "host all pgautofailover_replicator $network scram-sha-256"
    echo "host postgres pgautofailover_monitor $network trust"
    echo "host all pgautofailover_monitor all reject"
    echo "host all postgres $network reject"
    echo "host all postgres $operators reject"
    echo "host all all $network scram-sha-256"
    echo "host all $user $operators scram-sha-256"
  fi
} >"$hba"

write_hba() {
  if [ -s "$PGDATA/PG_VERSION" ] && ! cmp -s "$hba" "$PGDATA/pg_hba.conf"; then
    cp "$hba" "$PGDATA/pg_hba.conf"
    local_psql -d postgres -c 'SELECT pg_reload_conf()' >/dev/null 2>&1 || true
  fi
}

# What pg_autoctl does not do by itself, while it runs: the rules above on a new data directory; the monitor's
# shorter failover timings (docs/RELIABILITY.md, as PostgresHaCluster's for ./voting up --postgres-ha); the
# applications' user on the primary; and an immediate checkpoint for a standby's pg_basebackup, which otherwise waits
# for the primary's next spread checkpoint (minutes). A keeper's own timing is set before it runs (below), never by
# this loop: pg_autoctl config set signals a running keeper, and an initdb it runs dies of the signal.
# The services' login roles (never superusers), their passwords, and the database's owner: voting_owner, which the
# workers migrate as (the migrations grant the others what each needs). Tables an older stack's superuser created are
# handed over too, so that the owner may grant on them.
ensure_roles() {
  for service in $roles; do
    VOTING_PG_PASSWORD=$(secret "$service") local_psql -d postgres -v role="voting_$service" >/dev/null 2>&1 <<'SQL' || return 1
\getenv password VOTING_PG_PASSWORD
SELECT format('CREATE ROLE %I LOGIN', :'role') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', :'role', :'password') \gexec
SQL
  done
  local_psql -d postgres -v database="$database" >/dev/null 2>&1 <<'SQL' || return 1
SELECT format('ALTER DATABASE %I OWNER TO voting_owner', :'database') \gexec
SQL
  local_psql -d "$database" >/dev/null 2>&1 <<'SQL'
SELECT format('ALTER TABLE %s OWNER TO voting_owner', c.oid::regclass) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND pg_get_userbyid(c.relowner) <> 'voting_owner' \gexec
SELECT format('ALTER FUNCTION %s OWNER TO voting_owner', p.oid::regprocedure) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
  WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> 'voting_owner' \gexec
SQL
}

# Sets a role's password (stored as SCRAM), passed in the environment, never on a command line; fails while the role
# does not exist yet (pg_autoctl creates pg_auto_failover's).
set_password() {
  VOTING_PG_PASSWORD=$2 local_psql -d postgres -v ON_ERROR_STOP=1 -v role="$1" >/dev/null 2>&1 <<'SQL'
\getenv password VOTING_PG_PASSWORD
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password') \gexec
SQL
}

helper() {
  # pg_autoctl signals its process group, this loop included, to reload (SIGHUP); and a failed step is tried again
  # a second later, never the end of the loop.
  trap '' HUP
  set +e
  tuned=no
  user_ready=no
  autoctl_ready=no
  replicator_ready=no
  while sleep 1; do
    write_hba
    if [ "$role" = monitor ]; then
      if [ $tuned = no ] && [ "$(local_psql -d pg_auto_failover -c "SELECT 1 FROM pg_extension WHERE extname = 'pgautofailover'" 2>/dev/null)" = 1 ]; then
        local_psql -d pg_auto_failover >/dev/null <<'SQL' && tuned=yes && echo "voting-postgres: the monitor's health checks are tuned for a failover in seconds"
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 5000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 10000;
SELECT pg_reload_conf();
SQL
      fi
      # The keepers sign in to the monitor as autoctl_node with the secret's password (theirs in PGPASSFILE).
      if [ $autoctl_ready = no ] && set_password autoctl_node "$(secret autoctl)"; then
        autoctl_ready=yes
        echo "voting-postgres: autoctl_node has its password: the keepers sign in with it"
      fi
      continue
    fi

    case "$(local_psql -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" in
      f)
        # The replication user, which pg_autoctl creates without a password, gets the secret's (a role is the whole
        # server's: the standby has it by replication).
        if [ $replicator_ready = no ] && set_password pgautofailover_replicator "$(secret replication)"; then
          replicator_ready=yes
          echo "voting-postgres: pgautofailover_replicator has its password on this primary"
        fi
        if [ $user_ready = no ] && VOTING_PG_PASSWORD=$password local_psql -d postgres -v user="$user" >/dev/null 2>&1 <<'SQL'; then
\getenv password VOTING_PG_PASSWORD
SELECT format('CREATE ROLE %I SUPERUSER LOGIN', :'user') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I PASSWORD %L', :'user', :'password') \gexec
SQL
          ensure_roles && user_ready=yes && echo "voting-postgres: the operators' user $user and the services' roles are ready on this primary"
        fi
        if [ "$(local_psql -d postgres -c "SELECT count(*) FROM pg_stat_progress_basebackup WHERE phase = 'waiting for checkpoint to finish'" 2>/dev/null)" != 0 ]; then
          local_psql -d postgres -c CHECKPOINT >/dev/null 2>&1 && echo "voting-postgres: a standby's base backup waits for a checkpoint: CHECKPOINT"
        fi
        ;;
      t) user_ready=no replicator_ready=no ;;
    esac
  done
}

helper &

if [ "$role" = node ] && ! { [ -f "$config" ] && [ -s "$PGDATA/PG_VERSION" ]; }; then
  uri="postgres://autoctl_node@$monitor:$port/pg_auto_failover?sslmode=disable"
  if [ -n "$after" ] && [ ! -f "$config" ]; then
    echo "voting-postgres: waiting until $after has registered with the monitor (it becomes the primary)"
    until [ "$(psql -X -At "$uri" -c "SELECT count(*) FROM pgautofailover.node WHERE nodename = '$after' AND reportedstate IN ('single', 'wait_primary', 'primary')" 2>/dev/null)" = 1 ]; do
      sleep 1
    done
    # Its base backup signs in as the replication user, whose password the primary sets once pg_autoctl has made it.
    primary_host=$(psql -X -At "$uri" -c "SELECT nodehost FROM pgautofailover.node WHERE nodename = '$after'")
    primary_port=$(psql -X -At "$uri" -c "SELECT nodeport FROM pgautofailover.node WHERE nodename = '$after'")
    echo "voting-postgres: waiting until $after ($primary_host:$primary_port) admits the replication user with its password"
    until psql -X -At "host=$primary_host port=$primary_port user=pgautofailover_replicator dbname=postgres sslmode=disable connect_timeout=3" \
      -c 'SELECT 1' >/dev/null 2>&1; do
      sleep 1
    done
  fi
  # Created to the end (registered, then initdb or a base backup of the primary) before the keeper runs: a failed
  # attempt ends the container, and the next one continues it.
  echo "voting-postgres: creating $name"
  pg_autoctl create postgres --pgdata "$PGDATA" --pgport "$port" --pgctl "$(command -v pg_ctl)" --listen '*' \
    --hostname "$hostname" --name "$name" --dbname "$database" --monitor "$uri" --skip-pg-hba --no-ssl \
    || fail "pg_autoctl create postgres failed; the next start continues it"
fi

if [ "$role" = node ]; then
  # The keeper's partition timeout (20 s by default), while no keeper runs: nothing to signal (the pid file is the
  # container's own, under XDG_RUNTIME_DIR).
  pg_autoctl config set --pgdata "$PGDATA" timeout.network_partition_timeout 5 >/dev/null \
    || fail "pg_autoctl config set timeout.network_partition_timeout failed"
  # The replication user's password in the keeper's own configuration too, for the connection strings it writes
  # (a standby's primary_conninfo, pg_rewind's source), as pg_auto_failover's documentation sets it.
  pg_autoctl config set --pgdata "$PGDATA" replication.password "$(secret replication)" >/dev/null \
    || fail "pg_autoctl config set replication.password failed"
fi

if [ -f "$config" ] && [ -s "$PGDATA/PG_VERSION" ]; then
  write_hba
  set -- pg_autoctl run --pgdata "$PGDATA"
elif [ "$role" = monitor ]; then
  set -- pg_autoctl create monitor --pgdata "$PGDATA" --pgport "$port" --pgctl "$(command -v pg_ctl)" --listen '*' \
    --hostname "$hostname" --skip-pg-hba --no-ssl --run
else
  fail "pg_autoctl create postgres ended without a data directory and configuration in $home"
fi

echo "voting-postgres: $*"
"$@" &
main=$!
trap 'kill -TERM $main 2>/dev/null' TERM INT
status=0
wait $main || status=$?
# A signal interrupts the first wait: wait for pg_autoctl to finish stopping PostgreSQL.
if kill -0 $main 2>/dev/null; then
  wait $main || status=$?
fi
exit $status
