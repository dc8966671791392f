#!/usr/bin/env bash
# One command on a Linux machine with an NVIDIA GPU and its Vulkan driver: builds a Llama-3-8B-shaped
# checkpoint (random BF16 weights, all 32 layers), prunes it with Wanda and SparseGPT (128 x 2048
# calibration tokens, 50 % and 2:4) through the `polyprune` CLI on Dawn, and prints seconds per layer,
# total seconds and peak GPU memory, then `npm run bench` (roofline ratio, one 8B layer).
#
#   bash tools/gpu-bench/run.sh [WORK_DIR]        (from the repository root, after `npm ci`)
# Environment: LAYERS (32), NSAMPLES (128), SEQLEN (2048), RUNS ("wanda:0.5 wanda:2:4 sparsegpt:0.5
# sparsegpt:2:4"), NODE (node). Needs about 16 GiB of disk for the checkpoint and 16 GiB more while one
# pruned copy is written (each is deleted after its run), and about 40 GiB of host memory.
# For comparison on one H200 (reference Python code, fp16): Wanda 19.3 s for 32 layers, SparseGPT about
# 9.7 s per layer; a plain WGSL matmul reached 27.6 TFLOP/s against cuBLAS fp32 50.6.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE=${NODE:-node}
WORK=${1:-${TMPDIR:-/tmp}/polyprune-gpu-bench}
LAYERS=${LAYERS:-32}
NSAMPLES=${NSAMPLES:-128}
SEQLEN=${SEQLEN:-2048}
RUNS=${RUNS:-"wanda:0.5 wanda:2:4 sparsegpt:0.5 sparsegpt:2:4"}
command -v "$NODE" >/dev/null || { echo "gpu-bench: Node.js not found (set NODE=/path/to/node)" >&2; exit 1; }
[ -f dist-cli/polyprune.mjs ] || npm run build:cli >/dev/null
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "gpu-bench: nvidia-smi not found"
"$NODE" bin/polyprune.mjs --version

have_layers=$("$NODE" -e 'try { console.log(require(process.argv[1]).num_hidden_layers) } catch { console.log("none") }' "$WORK/model/config.json")
if [ ! -f "$WORK/model/model.safetensors" ] || [ ! -f "$WORK/windows.safetensors" ] || [ "$have_layers" != "$LAYERS" ]; then
  rm -rf "$WORK"
  "$NODE" tools/gpu-bench/make-checkpoint.mjs "$WORK" "$LAYERS" "$NSAMPLES" "$SEQLEN"
fi

# Peak GPU memory as the driver sees it, sampled in the background (the CLI also reports its own peak).
smi_log="$WORK/smi.log"
( while true; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1; sleep 0.5; done ) > "$smi_log" &
smi_pid=$!
trap 'kill $smi_pid 2>/dev/null || true' EXIT

for run in $RUNS; do
  method=${run%%:*}
  structure=${run#*:}
  if [[ $structure == *:* ]]; then flag=(--nm "$structure"); else flag=(--sparsity "$structure"); fi
  out="$WORK/out-$method"
  rm -rf "$out"
  : > "$smi_log"
  start=$(date +%s%N)
  "$NODE" bin/polyprune.mjs prune --model "$WORK/model" --method "$method" "${flag[@]}" \
    --calib-tokens "$WORK/windows.safetensors" --out "$out" --json > "$WORK/$method-${structure/:/of}.json"
  end=$(date +%s%N)
  rm -rf "$out"
  smi_peak=$(sort -n "$smi_log" | tail -1)
  "$NODE" -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const t = r.timings, per = t.perLayerMs.map((x) => (x / 1000).toFixed(2));
    console.log(`${process.argv[2]} ${process.argv[3]}: ${t.perLayerMs.length} layers, pruning ${(t.totalMs / 1000).toFixed(1)} s ` +
      `(${(t.totalMs / 1000 / t.perLayerMs.length).toFixed(2)} s/layer; forward ${(t.forwardMs / 1000).toFixed(1)} s, scoring ${(t.scoringMs / 1000).toFixed(1)} s), ` +
      `whole command incl. load and export ${(Number(process.argv[4]) / 1000).toFixed(1)} s, peak GPU ${(r.peakGpuBytes / 2 ** 30).toFixed(2)} GiB (engine), ${process.argv[5] || "?"} MiB (nvidia-smi)`);
    console.log(`  seconds per layer: ${per.join(" ")}`);
  ' "$WORK/$method-${structure/:/of}.json" "$method" "$structure" "$(( (end - start) / 1000000 ))" "$smi_peak"
done

BENCH_ONLY=big BENCH_LAYER=8b npm run bench
