#!/usr/bin/env bash
# Three hubs on this machine, each following the other two: a SCIM user created on
# any hub reaches the others by itself (no `sync` command), and a hub stopped for a
# while catches up when it comes back. Each hub gives each peer its own token.
#   Samples/mesh.sh [path/to/setuplink]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
    swift build --package-path "$here/.." --product setuplink >/dev/null
    bin="$here/../.build/debug/setuplink"
fi
work=$(mktemp -d)
declare -A pid url
cleanup() { for h in a b c; do [ -n "${pid[$h]:-}" ] && kill "${pid[$h]}" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
umask 077

serve() {  # serve HUB [PORT]: starts the hub (port 0 picks a free one) and waits until it listens
    local h=$1 port=${2:-0}
    "$bin" --db "$work/$h.sqlite" serve --port "$port" --token-file "$work/$h.serve-token" > "$work/$h.out" 2>> "$work/$h.log" &
    pid[$h]=$!
    for _ in $(seq 1 100); do grep -q '^listening on' "$work/$h.out" 2>/dev/null && break; sleep 0.1; done
    url[$h]=$(awk '/^listening on/ {print $3}' "$work/$h.out")
}
digest() { "$bin" --db "$work/$1.sqlite" --json status | sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/'; }
users() { "$bin" --db "$work/$1.sqlite" --json status | sed 's/.*"users":\([0-9]*\).*/\1/'; }
converged() {  # converged N: waits until the three hubs hold N users and the same digest
    for _ in $(seq 1 300); do
        if [ "$(users a)" = "$1" ] && [ "$(users b)" = "$1" ] && [ "$(users c)" = "$1" ] \
            && [ "$(digest a)" = "$(digest b)" ] && [ "$(digest b)" = "$(digest c)" ]; then return 0; fi
        sleep 0.2
    done
    echo "error: the hubs did not converge" >&2; tail -5 "$work"/*.log >&2; exit 1
}

# 1. Three hubs, each with its serve token in a file.
for h in a b c; do openssl rand -hex 24 > "$work/$h.serve-token"; serve $h; echo "hub $h listening on ${url[$h]}"; done

# 2. Each hub makes a token for each of the other two, which follows it with that token.
for h in a b c; do
    for p in a b c; do
        [ "$h" = "$p" ] && continue
        "$bin" --db "$work/$h.sqlite" --json serve peer-token create "$p" | sed 's/.*"token":"\([^"]*\)".*/\1/' > "$work/$p-on-$h.token"
        "$bin" --db "$work/$p.sqlite" peer add "$h" "${url[$h]}" --token-file "$work/$p-on-$h.token" --follow > /dev/null
    done
done
# (A running serve reads its peers again every two seconds: no restart needed.)

# 3. A setup link and a directory on hub a.
"$bin" --db "$work/a.sqlite" link create --tenant acme --product crm --webhook-url https://hooks.example.com/x --webhook-secret s3cret > /dev/null
dir=$(printf 'open %s\ndirectory new --type generic-scim-v2 --name Mesh\n' "$("$bin" --db "$work/a.sqlite" link copy 3309)" \
    | "$bin" --db "$work/a.sqlite" --json | tail -1)
path=$(echo "$dir" | sed 's/.*"scim_endpoint":"[a-z]*:\/\/[^/]*\([^"]*\)".*/\1/')
scim_token=$(echo "$dir" | sed 's/.*"scim_token":"\([^"]*\)".*/\1/')

create() {  # create HUB USERNAME: a SCIM user created on that hub, as an identity provider does
    for _ in $(seq 1 100); do  # the directory reaches b and c by itself first
        code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${url[$1]}$path/Users" \
            -H "Authorization: Bearer $scim_token" -H 'Content-Type: application/scim+json' \
            -d "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"$2\",\"active\":true}")
        [ "$code" = 201 ] && return 0
        sleep 0.2
    done
    echo "error: could not create $2 on hub $1 ($code)" >&2; exit 1
}

# 4. Identity providers write to all three hubs.
writers=()
for h in a b c; do create $h "ann@$h.example.com" & writers+=($!); done
wait "${writers[@]}"
converged 3
echo "three hubs converged by themselves: digest $(digest a)"

# 5. Hub c stops; a and b take writes; c restarts and catches up.
kill "${pid[c]}"; wait "${pid[c]}" 2>/dev/null || true; pid[c]=
port_c=${url[c]##*:}
create a "bob@a.example.com"; create b "cy@b.example.com"
serve c "$port_c"
converged 5
echo "hub c caught up after a restart: digest $(digest c)"
"$bin" --db "$work/a.sqlite" status | sed -n '/^Peer/,$p'
echo "mesh converged"
