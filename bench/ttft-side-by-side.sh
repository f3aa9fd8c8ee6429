#!/usr/bin/env bash
# One stream's time to first token: Tessera with its shard in the router process (the default for one
# shard), Tessera as a router and a shard process (--shard-process), and (with LLAMA_SERVER set) llama.cpp's llama-server, all on
# the same model and all running; each round measures every server once, rotating which goes first (a
# fixed order made the server measured second look slower on the shared 2-core VM). docs/benchmarks.md.
#
#   LLAMA_SERVER=/path/to/llama-server bash bench/ttft-side-by-side.sh MODEL.gguf
#   ROUNDS=6 REQUESTS=40 TOKENS=8 (defaults); without LLAMA_SERVER the two Tessera modes only
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: [LLAMA_SERVER=…] bash bench/ttft-side-by-side.sh MODEL}
ROUNDS=${ROUNDS:-6}
REQUESTS=${REQUESTS:-40}
TOKENS=${TOKENS:-8}
OUT=${OUT:-.cache/bench/ttft-side-by-side}
BASE=${BASE:-18460}
mkdir -p "$OUT"

wait_ready() { until curl -sf "localhost:$1/health" >/dev/null 2>&1; do kill -0 "$2" 2>/dev/null || { echo "server on :$1 exited (see $OUT)"; exit 1; }; sleep 0.2; done; }

PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
node bin/tessera.js launch --model-id "$MODEL" --port "$BASE" --log-level warn >"$OUT/in-process.log" 2>&1 &
PIDS+=($!)
node bin/tessera.js launch --model-id "$MODEL" --port $((BASE + 1)) --shard-process --log-level warn >"$OUT/separate.log" 2>&1 &
PIDS+=($!)
NAMES=(in-process separate)
PORTS=("$BASE" $((BASE + 1)))
if [ -n "${LLAMA_SERVER:-}" ]; then
  "$LLAMA_SERVER" -m "$MODEL" --port $((BASE + 2)) -np 32 -c 16384 -t "$(nproc)" >"$OUT/llama-server.log" 2>&1 &
  PIDS+=($!)
  NAMES+=(llama-server)
  PORTS+=($((BASE + 2)))
fi
for i in "${!PORTS[@]}"; do wait_ready "${PORTS[$i]}" "${PIDS[$i]}"; done

ttft() {
  npm run -s bench -- --url "http://127.0.0.1:$1" -c 1 -n "$REQUESTS" --max-tokens "$TOKENS" --warmup 2 --quiet 2>&1 |
    sed -n 's/^Median TTFT (ms): *\([0-9.]*\).*/\1/p'
}
echo "| round | $(IFS='|'; echo "${NAMES[*]}" | sed 's/|/ | /g') (median TTFT, ms) |"
n=${#NAMES[@]}
for round in $(seq 1 "$ROUNDS"); do
  declare -A got=()
  for k in $(seq 0 $((n - 1))); do
    i=$(((round - 1 + k) % n))
    got[$i]=$(ttft "${PORTS[$i]}")
  done
  line="| $round"
  for i in $(seq 0 $((n - 1))); do line+=" | ${got[$i]}"; done
  echo "$line |"
  unset got
done
