#!/usr/bin/env bash
# `make test`: every gate, in stages, with each stage's duration printed at the end.
#
#   scripts/test-stages.sh
#
# Stages run one after another, except the two lab-bound ones (labtests, molecule), which mostly
# wait on booting hosts and SSH and run side by side (each boots its own labs). A parallel stage's
# output goes to tests/output/stages/<stage>.log and is printed when it ends. Exit 1 if any stage
# failed (every stage still runs, so one failure does not hide another).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

logdir=tests/output/stages
mkdir -p "$logdir"
declare -a names=() secs=() codes=()
overall=$SECONDS

record() { names+=("$1"); secs+=("$2"); codes+=("$3"); }

run_stage() { # name make-target
  local start=$SECONDS rc=0
  echo "=== make $2"
  make --no-print-directory "$2" || rc=$?
  record "$1" $((SECONDS - start)) "$rc"
}

run_parallel() { # name:target...
  local -A pids=() starts=() logs=()
  local spec name target rc
  for spec in "$@"; do
    name=${spec%%:*} target=${spec#*:}
    logs[$name]="$logdir/$name.log"
    starts[$name]=$SECONDS
    echo "=== make $target (in parallel; log: ${logs[$name]})"
    # The job writes its own duration: waiting for the jobs one after another would credit a
    # stage that ended early with the time of the one waited for before it.
    (
      begin=$SECONDS
      rc=0
      make --no-print-directory "$target" >"${logs[$name]}" 2>&1 || rc=$?
      echo $((SECONDS - begin)) >"$logdir/$name.seconds"
      exit "$rc"
    ) &
    pids[$name]=$!
  done
  for spec in "$@"; do
    name=${spec%%:*}
    rc=0
    wait "${pids[$name]}" || rc=$?
    record "$name" "$(cat "$logdir/$name.seconds" 2>/dev/null || echo $((SECONDS - starts[$name])))" "$rc"
    echo "=== output of $name (exit $rc)"
    cat "${logs[$name]}"
  done
}

run_stage tools tools
run_stage lint lint
run_stage build build
run_stage sanity sanity
run_stage unit unit
# Publish the lab mirror once, before the two lab stages would both do it at the same time.
start=$SECONDS rc=0
echo "=== scripts/lab-artifacts.sh"
scripts/lab-artifacts.sh || rc=$?
record artifacts $((SECONDS - start)) "$rc"
run_parallel labtests:labtests molecule:molecule

failed=0
echo
echo "make test: stage durations"
printf '  %-10s %8s  %s\n' stage seconds result
for i in "${!names[@]}"; do
  result=ok
  if [[ ${codes[$i]} != 0 ]]; then result="FAILED (exit ${codes[$i]})"; failed=1; fi
  printf '  %-10s %8d  %s\n' "${names[$i]}" "${secs[$i]}" "$result"
done
printf '  %-10s %8d\n' total $((SECONDS - overall))
if ((failed)); then
  echo "make test: FAILED"
  exit 1
fi
echo "make test: all gates passed"
