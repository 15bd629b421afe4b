#!/usr/bin/env bash
# `make lab`, the main job: publish the lab mirror (Go builds on a cold machine), boot the lab,
# converge it with site.yml, run the acceptance checks, print how long each stage took.
#
# The mirror's builds (the k3s test double, Ollama) and the lab's boot (debootstrap of the cached
# rootfs on a cold machine, the hosts' systemd, sshd) need different things — CPU for the first,
# the Debian mirror and disk for the second — so they run side by side; the converge starts when
# both are done. The lab only needs the peers it installs (the k3s double and Ollama); the
# harness-only binaries (kube-apiserver, etcd, kube-controller-manager, kubeseal, the
# sealed-secrets controller, Helm) are built by `make tools`/`make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RUN:?RUN (the uv run command) must be set by the Makefile}"
read -r -a run <<<"$RUN"

declare -a names=() secs=()
stamp() { names+=("$1"); secs+=("$2"); }
now() { date +%s; }

logdir=${SHAI_CACHE:-$HOME/.cache/shai}/build
mkdir -p "$logdir"
t0=$(now)
artifacts_log=$logdir/lab-artifacts.log
# Build output is shown as it comes (progress lines), and kept in a log.
( start=$(now); scripts/lab-artifacts.sh; echo $(( $(now) - start )) >"$logdir/lab-artifacts.seconds" ) \
  > >(tee "$artifacts_log") 2>&1 &
artifacts=$!

up_rc=0
start=$(now)
"${run[@]}" shai lab up 2>&1 | tee "$logdir/lab-up.log" || up_rc=$?
stamp "lab up (side by side with the mirror)" $(( $(now) - start ))

art_rc=0
start=$(now)
wait "$artifacts" || art_rc=$?
stamp "mirror builds: waited after lab up" $(( $(now) - start ))
if [ -f "$logdir/lab-artifacts.seconds" ]; then
  stamp "mirror builds (own duration)" "$(cat "$logdir/lab-artifacts.seconds")"
fi
if [ "$art_rc" != 0 ]; then echo "make lab: publishing the lab mirror failed (log: $artifacts_log)" >&2; exit "$art_rc"; fi
if [ "$up_rc" != 0 ]; then echo "make lab: shai lab up failed" >&2; exit "$up_rc"; fi

start=$(now)
"${run[@]}" shai lab run-site
stamp "converge (site.yml)" $(( $(now) - start ))

start=$(now)
"${run[@]}" python -m shai.lab.accept
stamp "acceptance checks" $(( $(now) - start ))

stamp "total" $(( $(now) - t0 ))
printf '\nmake lab stage durations:\n'
for i in "${!names[@]}"; do printf '  %-40s %6ss\n' "${names[$i]}" "${secs[$i]}"; done

# The same figures for benchmarks/lab_cold.py: stages, and what this run compiled (vs cached).
{
  printf '{"finished": "%s", "stages": [' "$(date -u +%FT%TZ)"
  for i in "${!names[@]}"; do printf '%s{"stage": "%s", "seconds": %s}' "$([ "$i" = 0 ] || echo ,)" "${names[$i]}" "${secs[$i]}"; done
  printf '], "built": {'
  sep=""
  while read -r target secs_built; do
    printf '%s"%s": %s' "$sep" "$target" "$secs_built"; sep=","
  done < <(sed -n 's/^\[tools\/build.sh\] built \([a-z0-9-]*\) in \([0-9]*\)s$/\1 \2/p' "$artifacts_log"
           sed -n 's/^lab [a-z0-9-]*: base \(rootfs\) built in \([0-9]*\)s$/\1 \2/p' "$logdir/lab-up.log")
  printf '}}\n'
} >"$logdir/lab-main.json"
