#!/usr/bin/env bash
# Two peers on this machine: a hub that serves its replica on a free port, and a
# field admin's laptop that works offline, then syncs.
#   Samples/two-peers.sh [path/to/setuplink]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
    swift build --package-path "$here/.." --product setuplink >/dev/null
    bin="$here/../.build/debug/setuplink"
fi
work=$(mktemp -d)
hub_pid=
cleanup() { [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# 1. The hub serves its replica; port 0 picks a free port; the token is generated and printed once.
"$bin" --db "$work/hub.sqlite" serve --port 0 > "$work/serve.out" 2> "$work/serve.log" &
hub_pid=$!
for _ in $(seq 1 100); do grep -q '^token:' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(awk '/^listening on/ {print $3}' "$work/serve.out")
token=$(awk '/^token:/ {print $2}' "$work/serve.out")
echo "hub listening on $url"

# 2. The field admin works offline on a second replica (no network involved).
"$bin" --db "$work/laptop.sqlite" < "$here/admin.repl" > /dev/null

# 3. Back online: sync with the hub.
"$bin" --db "$work/laptop.sqlite" <<EOF2
peer add hub $url --token $token
sync hub
EOF2

# 4. The link is on the hub's replica; both replicas have the same digest.
echo "On the hub:"
echo "link list" | "$bin" --db "$work/hub.sqlite"
hub_digest=$(echo status | "$bin" --db "$work/hub.sqlite" --json | sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/')
laptop_digest=$(echo status | "$bin" --db "$work/laptop.sqlite" --json | sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/')
echo "hub digest    $hub_digest"
echo "laptop digest $laptop_digest"
[ "$hub_digest" = "$laptop_digest" ] || { echo "error: replicas differ" >&2; exit 1; }
echo "converged"
