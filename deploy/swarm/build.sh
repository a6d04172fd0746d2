#!/usr/bin/env bash
# Builds the four images of Voting.Orleans and tags them $VOTING_REGISTRY/{web,silo,results,balancer}:$VOTING_TAG
# (voting/...:latest by default, the names stack.yml uses). --push pushes them too, for a multi-node swarm.
set -euo pipefail
cd "$(dirname "$0")/../.."

registry="${VOTING_REGISTRY:-voting}"
tag="${VOTING_TAG:-latest}"
targets=(web silo results balancer)

for target in "${targets[@]}"; do
  docker build -f deploy/swarm/Dockerfile --target "$target" -t "$registry/$target:$tag" .
done

if [ "${1:-}" = "--push" ]; then
  for target in "${targets[@]}"; do docker push "$registry/$target:$tag"; done
fi
