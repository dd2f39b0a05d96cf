#!/usr/bin/env bash
# Two replicas syncing over HTTPS with a private CA, on this machine:
# a CA and a server certificate made with the openssl command line, a hub
# serving with them, and a laptop that trusts the CA with --cacert.
#   Samples/https-peers.sh [path/to/setuplink]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-}
if [ -z "$bin" ]; then
    swift build --package-path "$here/.." --product setuplink >/dev/null
    bin="$here/../.build/debug/setuplink"
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=$(mktemp -d)
hub_pid=
cleanup() { [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"

# 1. A private CA, and a certificate for 127.0.0.1 and localhost signed by it (EC P-256).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -keyout ca.key -out ca.pem -subj "/CN=setuplink sample CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout hub.key -out hub.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > hub.ext
openssl x509 -req -in hub.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile hub.ext -out hub.pem 2>/dev/null
chmod 600 ca.key hub.key

# 2. The peer token lives in a file, never on a command line.
openssl rand -hex 24 > hub.token
chmod 600 hub.token

# 3. The hub serves HTTPS on a free port.
"$bin" --db hub.sqlite serve --port 0 --tls-cert hub.pem --tls-key hub.key --token-file hub.token \
    > serve.out 2> serve.log &
hub_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on' serve.out 2>/dev/null && break; sleep 0.1; done
url=$(awk '/^listening on/ {print $3}' serve.out)
echo "hub listening on $url"

# 4. The laptop works offline, then syncs over HTTPS, trusting the private CA.
"$bin" --db laptop.sqlite < "$here/admin.repl" > /dev/null
"$bin" --db laptop.sqlite <<EOF2
peer add hub $url --token-file hub.token --cacert ca.pem
sync hub
EOF2

# 5. Without the CA the certificate is refused, in one line.
if "$bin" --db other.sqlite sync "$url" --token-file hub.token 2> refused.txt; then
    echo "error: a sync without --cacert was accepted" >&2; exit 1
fi
echo "without --cacert: $(cat refused.txt)"

# 6. Both replicas hold the same state.
hub_digest=$(echo status | "$bin" --db hub.sqlite --json | sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/')
laptop_digest=$(echo status | "$bin" --db laptop.sqlite --json | sed 's/.*"digest":"\([0-9a-f]*\)".*/\1/')
echo "hub digest    $hub_digest"
echo "laptop digest $laptop_digest"
[ "$hub_digest" = "$laptop_digest" ] || { echo "error: replicas differ" >&2; exit 1; }
echo "converged over HTTPS"
