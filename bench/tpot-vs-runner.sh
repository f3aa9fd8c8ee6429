#!/usr/bin/env bash
# One stream's time per output token through the whole server against the runner's own batch-1 decode
# step (issue 16's goal for the 50m preset: TPOT ≤ 1.15 × the step), alternated in rounds in one run so
# the shared machine's noise falls on both alike. The runner side is decode.bench.ts on the same generated
# 50m model with the threads the launcher gives a shard ((cores − 1) / 1), each step greedy (top-1
# selected in the graph, as the server runs the greedy bench); the server side is
# `npm run bench` at c = 1 against `tessera launch` on the generated 50m preset (docs/benchmarks.md).
#
#   bash bench/tpot-vs-runner.sh                 # ROUNDS=3 TOKENS=64 PAST=64 PORT=18330 (defaults)
#   LAUNCH_FLAGS=--shard-process bash bench/tpot-vs-runner.sh     # the shard as a process of its own
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
TOKENS=${TOKENS:-64}
PAST=${PAST:-64}
PORT=${PORT:-18330}
OUT=${OUT:-.cache/bench/tpot-vs-runner}
THREADS=$(( $(nproc) > 1 ? $(nproc) - 1 : 1 ))
mkdir -p "$OUT"
[ -f "$OUT/m50/config.json" ] || node bin/tessera.js generate-model --preset 50m --out "$OUT/m50"
node bin/tessera.js launch --model-id "$OUT/m50" --port "$PORT" --cache-dir "$OUT/cache" --log-level warn ${LAUNCH_FLAGS:-} >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
until curl -sf "localhost:$PORT/health" >/dev/null 2>&1; do kill -0 "$SERVER" 2>/dev/null || { echo "server exited: $OUT/server.log"; exit 1; }; sleep 0.2; done

for round in $(seq 1 "$ROUNDS"); do
  step=$(node --import tsx services/shard/src/runner/decode.bench.ts --threads "$THREADS" --past "$PAST" --steps 30 --batch 1 --capacity 1024 --model "$OUT/m50" \
    | sed -n 's/.*decode step median \([0-9.]*\) ms.*/\1/p')
  tpot=$(node --import tsx bench/serve.ts --url "http://127.0.0.1:$PORT" -c 1 -n 6 --max-tokens "$TOKENS" --ignore-eos --quiet 2>&1 \
    | sed -n 's/^Median TPOT (ms): *\([0-9.]*\).*/\1/p')
  echo "round $round: runner batch-1 step ${step} ms, served median TPOT ${tpot} ms, ratio $(echo "scale=2; $tpot / $step" | bc)"
done
