#!/bin/sh
# A front end's Redis as the stack runs it (deploy/swarm/Dockerfile, target redis): one server at a time on a data
# directory, then the command line the stack gives (redis-server ...).
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

exec "$@"
