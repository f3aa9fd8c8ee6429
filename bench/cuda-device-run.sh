#!/usr/bin/env bash
# The whole CUDA check for a lent GPU machine, as one script (issue 19): install the CUDA provider from
# the npm registry, check the device, run the device test file, then serve stories260K and the 50m
# preset on CUDA float16, WebGPU float16 and the CPU (float32) at c = 1 and c = 32, one after another
# in the same run. Results: $OUT/bench-results.jsonl (+ logs); ~8 minutes on an H200 with 16 cores.
#   bash bench/cuda-device-run.sh        (on the device machine, from the repository root)
set -u
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/cuda-run}; mkdir -p "$out"
export RESULTS=$out/bench-results.jsonl LOGDIR=$out CONCURRENCY="1 32" MAX_TOKENS=64
step() { echo "== $* ($(date +%T))"; }
step install; ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund > "$out/npm-ci.log" 2>&1 && npm run gpu:cuda > "$out/gpu-cuda.log" 2>&1
tail -2 "$out/gpu-cuda.log"
step check-device
node bin/tessera.js check-device --device cuda | tee "$out/check-cuda.txt"
node bin/tessera.js check-device --device webgpu > "$out/check-webgpu.txt" 2>&1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv > "$out/gpu.txt" 2>&1
step device-tests
timeout 240 node test/run.mjs test/devices.test.ts > "$out/devices-test.txt" 2>&1; grep -E '^# (pass|fail|skip)' "$out/devices-test.txt"
step models
m50=$out/m50; [ -d "$m50" ] || node bin/tessera.js generate-model --preset 50m --out "$m50" > /dev/null
s260=../shared/models/stories260K; [ -d "$s260" ] || s260=shared/models/stories260K
port=18700
for model in "$s260" "$m50"; do
  name=$(basename "$model")
  for cfg in "cuda --device cuda" "webgpu --device webgpu" "cpu --device cpu"; do
    set -- $cfg; label=$name-$1; shift
    step "serve $label"
    timeout 150 bash bench/serve-config.sh "$label" "$model" $((port++)) "$@" || echo "$label failed"
  done
done
step done; cat "$RESULTS"
