#!/usr/bin/env bash
# Profile the zoo on this machine's CPU: RUNS independent runs (one process per model and run),
# combined into one profile with its run-to-run spread (docs/profiles.md records the figures).
#   bench/profile_zoo_cpu.sh                      # writes out/zoo-cpu/run*.csv and examples/zoo/profiles.csv
#   RUNS=5 HW=my-cpu RESULT=out/mine.csv bench/profile_zoo_cpu.sh
# On a shared machine other work shows up as latency: before each model's run the script waits
# (up to QUIET_WAIT_S seconds) for the CPUs to be >= 90 % idle over 5 s, the profiler records
# the share of the machine others used meanwhile (others_cpu_pct, flag 'contended'), and
# `profiles combine` leaves contended runs out of the median where quiet ones exist.
set -euo pipefail
cd "$(dirname "$0")/.."
SKINFLINT=${SKINFLINT:-.venv/bin/skinflint}
HW=${HW:-epyc-2core}
RUNS=${RUNS:-3}
DIR=${DIR:-out/zoo-cpu}
BATCHES=${BATCHES:-1,2,4,8,16,32}
CAP=${CAP:-10}
QUIET_WAIT_S=${QUIET_WAIT_S:-600}
RESULT=${RESULT:-examples/zoo/profiles.csv}
NOTE=${NOTE:-"hardware $HW = this machine's CPU, priced in examples/zoo/hardware.yaml"}

idle_pct() {  # percent of CPU time idle over the next 5 s (100 where /proc/stat is missing)
  [ -r /proc/stat ] || { echo 100; return; }
  read -r _ a b c d e f g h _ < /proc/stat; local t1=$((a+b+c+d+e+f+g+h)) i1=$d
  sleep 5
  read -r _ a b c d e f g h _ < /proc/stat; local t2=$((a+b+c+d+e+f+g+h)) i2=$d
  echo $(( 100 * (i2 - i1) / (t2 - t1 > 0 ? t2 - t1 : 1) ))
}
wait_quiet() {
  local waited=0 idle
  while idle=$(idle_pct); [ "$idle" -lt 90 ] && [ "$waited" -lt "$QUIET_WAIT_S" ]; do waited=$((waited + 5)); done
  echo "$idle"
}

$SKINFLINT zoo build "$DIR/models"
rm -f "$DIR"/run*.csv
for run in $(seq 1 "$RUNS"); do
  for model in ssdlite_mobilenet_v2 resnet18 mobilenet_v2; do
    idle=$(wait_quiet)
    echo "run $run/$RUNS: $model (CPUs ${idle}% idle just before)" >&2
    $SKINFLINT profile "$DIR/models/$model.onnx" --hardware "$HW" --batch-sizes "$BATCHES" --provider cpu \
      --time-cap-s "$CAP" --note "$NOTE" --quiet -o "$DIR/run$run.csv"
  done
done
$SKINFLINT profiles combine "$DIR"/run*.csv -o "$RESULT"
