#!/usr/bin/env bash
# Speculative decoding A/B: the same model served twice, without drafts and with --speculate N, both
# running and measured alternately (single stream, greedy) on prompts that make the model repeat, so
# the shared machine's noise falls on both alike. Prints tok/s per round, the ratio, the acceptance and
# whether every prompt's greedy text is identical (docs/speculation.md, docs/benchmarks.md).
#
#   bash bench/speculate-ab.sh MODEL            # MODEL: a .gguf file or an HF directory
#   SPECULATE=4 ROUNDS=3 TOKENS=128 PROMPTS=bench/prompts-repetitive.json THREADS=1 ... (defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: bash bench/speculate-ab.sh MODEL}
SPECULATE=${SPECULATE:-4}
ROUNDS=${ROUNDS:-3}
TOKENS=${TOKENS:-128}
PROMPTS=${PROMPTS:-bench/prompts-repetitive.json}
THREADS=${THREADS:-1}
OUT=${OUT:-.cache/bench/speculate-ab}
APORT=${APORT:-18440}
BPORT=${BPORT:-18441}
mkdir -p "$OUT"

wait_ready() { until curl -sf "localhost:$1/health" >/dev/null 2>&1; do kill -0 "$2" 2>/dev/null || { echo "server on :$1 exited"; exit 1; }; sleep 0.2; done; }
node bin/tessera.js launch --model-id "$MODEL" --port "$APORT" --threads "$THREADS" --log-level warn >"$OUT/plain.log" 2>&1 &
PLAIN=$!
node bin/tessera.js launch --model-id "$MODEL" --port "$BPORT" --threads "$THREADS" --speculate "$SPECULATE" --log-level warn >"$OUT/spec.log" 2>&1 &
SPEC=$!
trap 'kill $PLAIN $SPEC 2>/dev/null || true' EXIT
wait_ready "$APORT" "$PLAIN"
wait_ready "$BPORT" "$SPEC"

n=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$PROMPTS','utf8')).length)")
tps() { node -e "console.log(JSON.parse(require('fs').readFileSync('$1','utf8')).metrics.outputThroughput.toFixed(1))"; }
echo "| round | off tok/s | --speculate $SPECULATE tok/s | ratio | acceptance |"
echo "|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  npm run -s bench -- --url "http://127.0.0.1:$APORT" -c 1 -n "$n" --prompts "$PROMPTS" --max-tokens "$TOKENS" --warmup 1 --quiet --json "$OUT/off-r$round.json" >/dev/null
  acc=$(npm run -s bench -- --url "http://127.0.0.1:$BPORT" -c 1 -n "$n" --prompts "$PROMPTS" --max-tokens "$TOKENS" --warmup 1 --quiet --json "$OUT/on-r$round.json" | sed -n 's/^Speculative decoding: .*(\([0-9.]* %\))$/\1/p')
  acc=${acc:--}
  a=$(tps "$OUT/off-r$round.json")
  b=$(tps "$OUT/on-r$round.json")
  echo "| $round | $a | $b | $(echo "scale=2; $b / $a" | bc) | $acc |"
done

# Greedy text of every prompt on both servers (TGI /generate, details off).
node -e "
const prompts = JSON.parse(require('fs').readFileSync('$PROMPTS', 'utf8'));
const gen = (port, p) => fetch('http://127.0.0.1:' + port + '/generate', { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ inputs: p, parameters: { max_new_tokens: $TOKENS } }) }).then((r) => r.json()).then((b) => b.generated_text);
(async () => {
  let same = 0;
  for (const p of prompts) if ((await gen($APORT, p)) === (await gen($BPORT, p))) same++;
  console.log('identical greedy text: ' + same + '/' + prompts.length + ' prompts');
})();
"
