#!/usr/bin/env bash
# Profile the zoo on a GPU with ONNX Runtime's CUDA execution provider: RUNS independent runs per
# model, combined with their run-to-run spread. Prepared for a session that has the device tool:
#   run(command="bash bench/profile_zoo_gpu.sh", timeout_s=540)     # results come back under $OUT/zoo-gpu/
# then copy $OUT/zoo-gpu/profiles.csv to examples/zoo/profiles_gpu.csv with its provenance.
# Needs python3 >= 3.11 where `onnxruntime` offers CUDAExecutionProvider (onnxruntime-gpu), or pip
# access to install it into .venv-gpu; it stops with exit 3 and a message otherwise.
# Dry run of the script's plumbing on a CPU: PROVIDER=cpu RUNS=1 BATCHES=1,2 CAP=0.2 bench/profile_zoo_gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${OUT:-out}/zoo-gpu
RUNS=${RUNS:-3}
BATCHES=${BATCHES:-1,2,4,8,16,32,64,128}
CAP=${CAP:-5}
PY=${PY:-python3}
PROVIDER=${PROVIDER:-cuda}
GPU=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1 || echo "unknown GPU")
HW=${HW:-$(echo "${GPU%%,*}" | sed 's/NVIDIA //; s/ /-/g')}
mkdir -p "$OUT_DIR"
echo "GPU: $GPU; hardware name: $HW" | tee "$OUT_DIR/device.txt"

has_cuda() { "$1" -c "import sys, onnxruntime as o; sys.exit('CUDAExecutionProvider' not in o.get_available_providers())" 2>/dev/null; }
if [ "$PROVIDER" = cuda ] && ! has_cuda "$PY"; then
  echo "no CUDA provider in $PY's onnxruntime; trying .venv-gpu with onnxruntime-gpu" >&2
  { "$PY" -m venv .venv-gpu && .venv-gpu/bin/pip install -q -e . onnx onnxruntime-gpu; } >&2 || true
  PY=.venv-gpu/bin/python
  has_cuda "$PY" || { echo "onnxruntime-gpu with a working CUDA provider is not available here" >&2; exit 3; }
fi
"$PY" -c "import skinflint, onnx" 2>/dev/null || "$PY" -m pip install -q -e . onnx >&2
"$PY" -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())" | tee -a "$OUT_DIR/device.txt"
sk() {  # the skinflint CLI of this tree, whatever the venv's console script points at
  "$PY" -c "import sys, importlib.util as u, skinflint.cli as c
c.COMMANDS = tuple(x for x in c.COMMANDS if u.find_spec('skinflint.commands.' + x))
sys.exit(c.main(sys.argv[1:]))" "$@"
}

sk zoo build "$OUT_DIR/models"
rm -f "$OUT_DIR"/run*.csv
for run in $(seq 1 "$RUNS"); do
  for model in ssdlite_mobilenet_v2 resnet18 mobilenet_v2; do
    echo "run $run/$RUNS: $model" >&2
    sk profile "$OUT_DIR/models/$model.onnx" --hardware "$HW" --batch-sizes "$BATCHES" --provider "$PROVIDER" \
      --warmup-runs 10 --time-cap-s "$CAP" --note "$GPU; inputs copied host->device each run" --quiet \
      -o "$OUT_DIR/run$run.csv"
  done
done
sk profiles combine "$OUT_DIR"/run*.csv -o "$OUT_DIR/profiles.csv"
