#!/usr/bin/env bash
# Throughput of the sandbox on loopback, no faults, no latency: wrk against two hot read routes.
# Usage: bench/sandbox-throughput.sh   (env: ITEMS=10000 DURATION=10s CONNECTIONS=32 THREADS=1)
# One wrk thread by default: on a 2-core machine the sandbox (one Node thread) gets the other core.
set -euo pipefail
cd "$(dirname "$0")/.."
ITEMS=${ITEMS:-10000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }

out=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT
node --import tsx --input-type=module \
  -e "import { runSandboxCommand } from './sandbox/main.ts'; process.exitCode = await runSandboxCommand(process.argv.slice(1));" \
  -- --port 0 >"$out/log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do grep -q 'sandbox listening on' "$out/log" && break; sleep 0.1; done
url=$(sed -n 's/^sandbox listening on //p' "$out/log")
[ -n "$url" ] || { cat "$out/log" >&2; exit 1; }

curl -sf -X POST "$url/_sandbox/generate" -d "{\"items\": $ITEMS, \"seed\": 1}" >"$out/generated.json"
curl -sf "$url/_sandbox/state" >"$out/state.json"
# The key goes to wrk only, never to the output.
key=$(jq -r '.env.TWELVELABS_API_KEY' "$out/generated.json")
asset=$(jq -r '[.plan.items[] | select(.twelvelabs)][0].twelvelabs.assetId' "$out/generated.json")
# An asset that is in at least one entity, so that the entities page has data.
linked=$(jq -r '[.twelvelabs.entities[] | select(.asset_ids | length > 0)][0].asset_ids[0]' "$out/state.json")
base="$url/twelvelabs/v1.3"

echo "sandbox throughput: $ITEMS generated items, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, node $(node --version), $(nproc) cores"
for path in "/assets/$asset" "/assets/$linked/entities?page=1&page_limit=10"; do
  echo
  echo "== GET /twelvelabs/v1.3$(sed -E "s/[0-9a-f]{24}/{asset_id}/" <<<"$path")"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "x-api-key: $key" "$base$path" |
    grep -E 'Requests/sec|Latency|50%|99%|requests in|Non-2xx|Socket errors'
done
