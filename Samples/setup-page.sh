#!/usr/bin/env bash
# The tenant's setup page in a browser: serve a replica, create a setup link,
# print the page's URL to open. Ctrl-C stops the server.
#   Samples/setup-page.sh [--check] [path/to/setuplink]
#   PORT=8090 Samples/setup-page.sh         # another port (default 8080)
# --check: instead of waiting, fetch the page once with curl, say whether it
# answered, and stop (used by the test suite; picks a free port).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check=
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
bin=${1:-}
if [ -z "$bin" ]; then
    swift build --package-path "$here/.." --product setuplink >/dev/null
    bin="$here/../.build/debug/setuplink"
fi
port=${PORT:-8080}
[ -n "$check" ] && port=0
external="http://127.0.0.1:$port"
work=$(mktemp -d)
pid=
tail_pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
    [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# 1. The admin creates a setup link for a tenant and a product (JSON out, to read the token).
link=$(echo 'link create --tenant "Acme Corporation" --product CRM --webhook-url https://hooks.example.com/dsync --webhook-secret s3cret' \
    | "$bin" --db "$work/hub.sqlite" --json)
token=$(printf '%s' "$link" | sed 's/.*"token":"\([0-9a-f]*\)".*/\1/')

# 2. The hub serves the replica: peers, SCIM and the setup page on one port.
#    The external URL makes SCIM endpoints and link URLs point at this server.
SETUPLINK_TOKEN=sample-peer-token "$bin" --db "$work/hub.sqlite" --external-url "$external" serve --port "$port" \
    > "$work/serve.out" 2> "$work/serve.log" &
pid=$!
for _ in $(seq 1 100); do grep -q '^listening on' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
listening=$(awk '/^listening on/ {print $3}' "$work/serve.out")
[ -n "$listening" ] || { echo "serve did not start:" >&2; cat "$work/serve.out" "$work/serve.log" >&2; exit 1; }
page="$listening/setup/$token"

if [ -n "$check" ]; then
    status=$(curl -s -o "$work/page.html" -w '%{http_code}' "$page")
    grep -q 'Set up Directory Sync' "$work/page.html" && [ "$status" = 200 ] || { echo "the page answered $status" >&2; exit 1; }
    echo "setup page answered $status at $listening/setup/<token>"
    exit 0
fi

# 3. The tenant opens this in a browser, creates a directory and copies its SCIM values.
echo "Open the tenant's setup page:"
echo
echo "    $page"
echo
echo "Requests are logged below (the link token is cut). What the page creates is in the replica:"
echo "    echo 'directory list' | $bin --db $work/hub.sqlite"
echo "Ctrl-C stops the server and removes the replica."
tail -f "$work/serve.log" &
tail_pid=$!
wait "$pid"
