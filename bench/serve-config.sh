#!/usr/bin/env bash
# Launches one Tessera configuration, checks 32 greedy tokens, runs the load generator at each
# concurrency, stops it. Appends one JSON line per run to $RESULTS (default ./bench-results.jsonl).
#   bench/serve-config.sh LABEL MODEL PORT [tessera launch flags…]      e.g. … m50-webgpu /m50 18601 --device webgpu
# Environment: CONCURRENCY (default "1 32"), MAX_TOKENS (64), LOGDIR (/tmp), KV (1GiB).
set -u
label=$1; model=$2; port=$3; shift 3
cd "$(dirname "$0")/.."
results=${RESULTS:-bench-results.jsonl}; logdir=${LOGDIR:-/tmp}; mkdir -p "$logdir"
log=$logdir/launch-$label.log
node bin/tessera.js launch --model-id "$model" --port "$port" --kv-cache-memory "${KV:-1GiB}" "$@" > "$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/health" > /dev/null && break
  kill -0 $pid 2> /dev/null || break
  sleep 0.5
done
if ! curl -sf "http://127.0.0.1:$port/health" > /dev/null; then
  echo "{\"label\":\"$label\",\"error\":\"did not start, see $log\"}" >> "$results"
  tail -5 "$log"
  exit 1
fi
curl -s "http://127.0.0.1:$port/generate" -H 'content-type: application/json' \
  -d '{"inputs":"Once upon a time","parameters":{"max_new_tokens":32,"details":true}}' > "$logdir/greedy-$label.json"
node -e "const b=require(process.argv[1]); console.log(JSON.stringify({label:process.argv[2], greedy:b.details.tokens.map(t=>t.id)}))" "$logdir/greedy-$label.json" "$label" >> "$results"
for c in ${CONCURRENCY:-1 32}; do
  n=$((c == 1 ? 8 : c * 2))
  node --import tsx bench/serve.ts --url "http://127.0.0.1:$port" -c "$c" -n "$n" --max-tokens "${MAX_TOKENS:-64}" \
    --ignore-eos --temperature 0 --warmup 2 --quiet --json "$logdir/bench-$label-c$c.json" > "$logdir/bench-$label-c$c.txt" 2>&1
  node -e "const r=require(process.argv[1]); const m=r.metrics; console.log(JSON.stringify({label:process.argv[2], c:+process.argv[3], outputTokS:m.outputThroughput, ttftMedianMs:m.ttftMs.median, tpotMedianMs:m.tpotMs.median, completed:m.completed, failed:m.failed}))" \
    "$logdir/bench-$label-c$c.json" "$label" "$c" >> "$results"
done
