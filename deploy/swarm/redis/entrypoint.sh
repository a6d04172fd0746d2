#!/bin/sh
# A front end's Redis as the stack runs it (deploy/swarm/Dockerfile, target redis): one server at a time on a data
# directory, then the command line the stack gives (redis-server ...), with the ACL users below.
#
# ACL users (docs/SECURITY.md; the same rules as tools/Local/Servers/RedisAccounts.cs), passwords from the secrets
# VOTING_REDIS_SECRETS/voting_redis_frontend_password and .../voting_redis_drainer_password, written into the ACL file
# as SHA-256 hashes: the default user off (a connection without credentials can run nothing; allowed every command
# only because Redis 7.0 replays the append-only file's transactions as the default user and drops each one that user
# may not run — RedisAccounts.DefaultUser says what that lost), voting-frontend may
# append to the stream VOTING_REDIS_STREAM [votes], voting-drainer may read, acknowledge, claim and trim it and append
# to its dead-letter stream.
#
# Swarm can start a new task for a global service before the old one on the same node has stopped: a node that comes
# back after a partition gets new web and Redis tasks while the old ones are still being shut down. Two servers
# appending to one append-only file each lose what the other acknowledged. So the server holds an exclusive lock on
# its data directory for as long as it runs (descriptor 9 is inherited through exec), and a second one waits for the
# first to exit — which fsyncs the file on a graceful stop — before it loads the file.
set -eu

data=${VOTING_REDIS_DATA:-/data}
exec 9<"$data"
if ! flock --nonblock 9; then
  echo "voting-redis: another Redis server is using $data; waiting until it stops" >&2
  flock 9
  echo "voting-redis: $data is free; starting" >&2
fi

secrets=${VOTING_REDIS_SECRETS:-/run/secrets}
stream=${VOTING_REDIS_STREAM:-votes}
echo "$stream" | grep -Eq '^[A-Za-z0-9:_-]{1,64}$' || { echo "voting-redis: VOTING_REDIS_STREAM must be a stream key, not '$stream'" >&2; exit 1; }
hash() {
  [ -s "$secrets/$1" ] || { echo "voting-redis: the secret $1 is missing from $secrets" >&2; exit 1; }
  printf '%s' "$(cat "$secrets/$1")" | sha256sum | cut -d' ' -f1
}
frontend=$(hash voting_redis_frontend_password)
drainer=$(hash voting_redis_drainer_password)
connection="+ping +echo +info +client|setname"
acl=/tmp/voting-users.acl
umask 077
cat >"$acl" <<EOF
user default off resetpass resetchannels ~* &* +@all
user voting-frontend on #$frontend resetchannels resetkeys ~$stream nocommands $connection +xadd
user voting-drainer on #$drainer resetchannels resetkeys ~$stream nocommands $connection +xgroup|create +xgroup|delconsumer +xreadgroup +xautoclaim +xack +xinfo|groups +xinfo|consumers +xpending +xrange +xlen +xtrim +exists +eval +evalsha +script|load (~$stream:dead-letters +xadd)
EOF

exec "$@" --aclfile "$acl"
