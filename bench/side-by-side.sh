#!/usr/bin/env bash
# Tessera and llama.cpp's llama-server on the same GGUF file, both running, measured alternately
# (rounds × concurrency levels), so the shared machine's noise falls on both alike (docs/benchmarks.md).
#
#   LLAMA_SERVER=/path/to/llama-server bash bench/side-by-side.sh MODEL.gguf
#   ROUNDS=2 LEVELS="1 32" TOKENS=64 ... (defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: LLAMA_SERVER=… bash bench/side-by-side.sh MODEL.gguf}
LLAMA_SERVER=${LLAMA_SERVER:?set LLAMA_SERVER to a llama-server binary}
ROUNDS=${ROUNDS:-2}
LEVELS=${LEVELS:-"1 32"}
TOKENS=${TOKENS:-64}
CTX=${CTX:-4096}
OUT=${OUT:-.cache/bench/side-by-side}
TPORT=${TPORT:-18430}
LPORT=${LPORT:-18431}
mkdir -p "$OUT"

wait_ready() { until curl -sf "localhost:$1/health" >/dev/null 2>&1; do kill -0 "$2" 2>/dev/null || { echo "server on :$1 exited"; exit 1; }; sleep 0.2; done; }
rss_mib() { echo $(( $(awk '/VmRSS/{print $2}' "/proc/$1/status") / 1024 )); }

t0=$(date +%s.%N)
node bin/tessera.js launch --model-id "$MODEL" --port "$TPORT" --log-level warn ${TESSERA_FLAGS:-} >"$OUT/tessera.log" 2>&1 &
TESSERA=$!
wait_ready "$TPORT" "$TESSERA"
tessera_ready=$(echo "$(date +%s.%N) - $t0" | bc)
t0=$(date +%s.%N)
# One slot per stream of the largest level, each with the full context (as Tessera's KV budget allows).
maxc=$(echo "$LEVELS" | tr ' ' '\n' | sort -n | tail -1)
"$LLAMA_SERVER" -m "$MODEL" --port "$LPORT" -c $((CTX * maxc)) -np "$maxc" -t "$(nproc)" ${LLAMA_FLAGS:-} >"$OUT/llama.log" 2>&1 &
LLAMA=$!
trap 'kill $TESSERA $LLAMA 2>/dev/null || true' EXIT
wait_ready "$LPORT" "$LLAMA"
llama_ready=$(echo "$(date +%s.%N) - $t0" | bc)
# The shard process (TESSERA_FLAGS=--shard-process), or the one process serving router and shard (the default).
SHARD=$(pgrep -P "$TESSERA" -f " (shard|serve) " | head -1 || true)
echo "ready after: tessera ${tessera_ready}s, llama-server ${llama_ready}s"

row() { node -e "const r=JSON.parse(require('fs').readFileSync('$1','utf8')).metrics; console.log(['$2','$3','$4', r.outputThroughput.toFixed(1), r.ttftMs.median.toFixed(1), r.tpotMs.median.toFixed(2)].join(' | '))"; }
echo "| server | c | round | output tok/s | TTFT ms | TPOT ms |"
echo "|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  for c in $LEVELS; do
    n=$(( c == 1 ? 8 : 2 * c ))
    for server in tessera llama-server; do
      port=$([ "$server" = tessera ] && echo "$TPORT" || echo "$LPORT")
      file="$OUT/$server-c$c-r$round.json"
      npm run -s bench -- --url "http://127.0.0.1:$port" -c "$c" -n "$n" --max-tokens "$TOKENS" --ignore-eos --warmup 2 --quiet --json "$file" >/dev/null
      row "$file" "$server" "$c" "$round"
    done
  done
done
echo "RSS after the runs: tessera shard $(rss_mib "$SHARD") MiB, llama-server $(rss_mib "$LLAMA") MiB"
