#!/usr/bin/env bash
# Quantized vs float weights, side by side in one run: start-up time (first and cached), shard RSS, and
# streaming decode at 1 and 32 streams, for each model given (GGUF files or HF dirs; docs/quantization.md).
#
#   bash bench/quantized.sh MODEL...            e.g. .cache/bench/50m-F32.gguf .cache/bench/50m-Q4_K_M.gguf
#   EXTRA="--quant-accuracy float32" bash bench/quantized.sh MODEL...   extra launch flags
#   C32=0 bash bench/quantized.sh MODEL...      one stream only (big models)
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-18400}
TOKENS=${TOKENS:-64}
CACHE=${CACHE:-$(mktemp -d)}   # a fresh graph cache: the first start compiles, the second is cached
OUT=${OUT:-.cache/bench/quantized}
mkdir -p "$OUT"

metric() { node -e "const r=JSON.parse(require('fs').readFileSync('$1','utf8')).metrics; console.log([r.outputThroughput.toFixed(1), r.ttftMs.median.toFixed(1), r.tpotMs.median.toFixed(2)].join(' '))"; }

start() {
  local t0 t1
  t0=$(date +%s.%N)
  node bin/tessera.js launch --model-id "$1" --port "$PORT" --cache-dir "$CACHE" --log-level info ${EXTRA:-} >"$OUT/launch.log" 2>&1 &
  LAUNCHER=$!
  until curl -sf "localhost:$PORT/health" >/dev/null 2>&1; do
    kill -0 "$LAUNCHER" 2>/dev/null || { cat "$OUT/launch.log"; exit 1; }
    sleep 0.2
  done
  t1=$(date +%s.%N)
  READY=$(echo "$t1 - $t0" | bc)
  SHARD=$(pgrep -P "$LAUNCHER" -f " shard " | head -1)   # this launcher's shard, not another run's
}

stop() { kill "$LAUNCHER"; wait "$LAUNCHER" 2>/dev/null || true; }

echo "| model | file MiB | first start s | cached start s | shard RSS MiB | c=1 tok/s | c=1 TPOT ms | c=32 tok/s | c=32 TPOT ms |"
echo "|---|---|---|---|---|---|---|---|---|"
for model in "$@"; do
  name=$(basename "$model")
  size=$(du -smL "$model" | cut -f1)
  start "$model"; first=$READY; stop
  start "$model"; cached=$READY
  npm run -s bench -- --url "http://127.0.0.1:$PORT" -c 1 -n 6 --max-tokens "$TOKENS" --ignore-eos --warmup 2 --quiet --json "$OUT/$name-c1.json" >/dev/null
  read -r c1 _ tpot1 < <(metric "$OUT/$name-c1.json")
  c32="—"; tpot32="—"
  if [ "${C32:-1}" != 0 ]; then
    npm run -s bench -- --url "http://127.0.0.1:$PORT" -c 32 -n 64 --max-tokens "$TOKENS" --ignore-eos --warmup 2 --quiet --json "$OUT/$name-c32.json" >/dev/null
    read -r c32 _ tpot32 < <(metric "$OUT/$name-c32.json")
  fi
  rss=$(( $(awk '/VmHWM/{print $2}' "/proc/$SHARD/status") / 1024 ))
  stop
  echo "| $name | $size | $first | $cached | $rss | $c1 | $tpot1 | $c32 | $tpot32 |"
done
