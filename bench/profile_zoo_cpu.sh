#!/usr/bin/env bash
# Profile the zoo on this machine's CPU: RUNS independent runs (one process per model and run),
# combined into one profile with its run-to-run spread (docs/profiles.md records the figures).
#   bench/profile_zoo_cpu.sh                      # writes out/zoo-cpu/run*.csv and examples/zoo/profiles.csv
#   RUNS=5 HW=my-cpu RESULT=out/mine.csv bench/profile_zoo_cpu.sh
# Run it on an idle machine: anything else running shows up as spread.
set -euo pipefail
cd "$(dirname "$0")/.."
SKINFLINT=${SKINFLINT:-.venv/bin/skinflint}
HW=${HW:-epyc-2core}
RUNS=${RUNS:-3}
DIR=${DIR:-out/zoo-cpu}
BATCHES=${BATCHES:-1,2,4,8,16,32}
CAP=${CAP:-10}
RESULT=${RESULT:-examples/zoo/profiles.csv}
NOTE=${NOTE:-"hardware $HW = this machine's CPU, priced in examples/zoo/hardware.yaml"}

$SKINFLINT zoo build "$DIR/models"
rm -f "$DIR"/run*.csv
for run in $(seq 1 "$RUNS"); do
  for model in ssdlite_mobilenet_v2 resnet18 mobilenet_v2; do
    load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?")  # other work on the box shows up as spread
    echo "run $run/$RUNS: $model (1-min load average before: $load)" >&2
    $SKINFLINT profile "$DIR/models/$model.onnx" --hardware "$HW" --batch-sizes "$BATCHES" --provider cpu \
      --time-cap-s "$CAP" --note "$NOTE; load average before run $load" --quiet -o "$DIR/run$run.csv"
  done
done
$SKINFLINT profiles combine "$DIR"/run*.csv -o "$RESULT"
