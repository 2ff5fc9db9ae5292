#!/usr/bin/env bash
# The GPU check of issue 13 (docs/runtime.md, "GPUs"), <= 8 minutes on a machine with an NVIDIA GPU:
#  1. profiles the zoo's detector and classifier on CUDA and on TensorRT (skinflint profile: the
#     sessions the runtime opens, pinned to device 0, GPU runs through IO binding);
#  2. writes a hardware catalog saying the GPU executes CUDA (execution: {provider: cuda}) and an
#     app (detector -> crops -> classifier) on the CUDA profile;
#  3. plans it and serves the plan on the GPU under Poisson load (bench/gpu_serve.py): attainment,
#     p50/p99, items/s served and real/profiled batch time per module, where each worker ran.
# Results under ${OUT:-out}/gpu-check/ (profiles, app, the log). With the device tool:
#   run(command="bash bench/gpu_check.sh", timeout_s=540)
# Needs python3 >= 3.11 with this package's dependencies and an onnxruntime offering
# CUDAExecutionProvider (onnxruntime-gpu, the `gpu` extra); WHEELS=DIR installs wheels carried
# there first (the device machine reaches no index). Stops with exit 3 and a message otherwise.
# Dry run on a CPU (the plumbing, in ~1-2 minutes): DRY=1 bash bench/gpu_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${OUT:-out}/gpu-check
PY=${PY:-python3}
DRY=${DRY:-0}
mkdir -p "$OUT_DIR"
LOG="$OUT_DIR/gpu_check.log"
: > "$LOG"
say() { echo "$*" | tee -a "$LOG"; }
if [ "$DRY" = 1 ]; then
  PROVIDERS=${PROVIDERS:-cpu}; BATCHES=${BATCHES:-1,2}; CAP=${CAP:-0.3}; DURATION=${DURATION:-4}
  HW=cpu-dry; EXECUTION="{provider: cpu}"; FRACTION=${FRACTION:-0.5}
  [ -x .venv/bin/python ] && PY=.venv/bin/python
else
  PROVIDERS=${PROVIDERS:-cuda tensorrt}; BATCHES=${BATCHES:-1,2,4,8,16,32}; CAP=${CAP:-2}; DURATION=${DURATION:-40}
  GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
  HW=${HW:-$(echo "${GPU:-GPU}" | sed 's/NVIDIA //; s/ /-/g')}; EXECUTION="{provider: cuda, gpus: 1}"
  FRACTION=${FRACTION:-0.8}
fi
if [ -n "${WHEELS:-}" ]; then "$PY" -m pip install -q --no-index --find-links "$WHEELS" "$WHEELS"/*.whl >&2; fi
"$PY" -c "import skinflint" 2>/dev/null || "$PY" -m pip install -q --no-deps -e . >&2
say "$("$PY" -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())")"
for p in $PROVIDERS; do
  want=$(echo "$p" | sed 's/cuda/CUDAExecutionProvider/; s/tensorrt/TensorrtExecutionProvider/; s/cpu/CPUExecutionProvider/')
  "$PY" -c "import sys, onnxruntime as o; sys.exit('$want' not in o.get_available_providers())" || {
    say "no $want in this onnxruntime: install onnxruntime-gpu (pip install 'skinflint[gpu]', or WHEELS=DIR)"; exit 3; }
done
sk() { "$PY" -m skinflint "$@"; }
t0=$(date +%s)
MODELS="$OUT_DIR/models"
sk zoo build "$MODELS" --models ssdlite_mobilenet_v2,mobilenet_v2 >> "$LOG" 2>&1
for p in $PROVIDERS; do
  rm -f "$OUT_DIR/profiles_$p.csv"
  for model in ssdlite_mobilenet_v2 mobilenet_v2; do
    say "profile $model on $p (batches $BATCHES, cap $CAP s)"
    sk profile "$MODELS/$model.onnx" --hardware "$HW" --batch-sizes "$BATCHES" --provider "$p" \
      $( [ "$p" = cpu ] || echo --device 0 ) --threads 1 --warmup-runs 5 --time-cap-s "$CAP" --quiet \
      --note "gpu_check.sh, provider $p" -o "$OUT_DIR/profiles_$p.csv" >> "$LOG" 2>&1
  done
  say "$(cut -d, -f1-4 "$OUT_DIR/profiles_$p.csv")"
done
FIRST=$(echo "$PROVIDERS" | cut -d' ' -f1)
cat > "$OUT_DIR/hardware.yaml" <<YAML
hardware:
  $HW: {price_per_hour: 1.0, execution: $EXECUTION}
YAML
# the planned rate: 60 % of what one worker of the detector does at its best batch
RATE=$("$PY" - "$OUT_DIR/profiles_$FIRST.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["model"] == "ssdlite_mobilenet_v2"]
print(round(0.6 * max(1000 * int(r["batch_size"]) / float(r["latency_ms"]) for r in rows), 1))
PY
)
cat > "$OUT_DIR/app.yaml" <<YAML
name: gpu-check
profiles: profiles_$FIRST.csv
hardware: hardware.yaml
rate: $RATE
slo_ms: ${SLO_MS:-200}
modules:
  - {name: detect, model: ssdlite_mobilenet_v2}
  - {name: classify, model: mobilenet_v2, after: [detect], rate_factor: 2, adapter: crops}
YAML
say "app: $RATE req/s, SLO ${SLO_MS:-200} ms, profiles of $FIRST"
"$PY" bench/gpu_serve.py "$OUT_DIR/app.yaml" --models "$MODELS" --duration "$DURATION" --fraction "$FRACTION" 2>&1 \
  | grep -v WARNING | tee -a "$LOG"
say "gpu_check took $(( $(date +%s) - t0 )) s"
