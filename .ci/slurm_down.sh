#!/usr/bin/env bash
# Stop the daemons that slurm_up.sh started, by the pids it recorded (slurmd first, munged last).
set -u
export SLURM_CONF=${SLURM_CONF:-/tmp/slurm-ci/slurm.conf}
DIR=$(dirname "$SLURM_CONF")
PIDS="$DIR/started.pids"
[ -s "$PIDS" ] || { echo "slurm_down.sh: nothing recorded in $PIDS"; exit 0; }
for name in slurmd slurmctld munged; do
  pid=$(awk -v n="$name" '$1 == n {print $2}' "$PIDS")
  [ -n "$pid" ] || continue
  if kill "$pid" 2>/dev/null; then
    echo "sent TERM to $name ($pid)"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "$name still alive, KILL $pid"; kill -9 "$pid"; fi
  fi
done
rm -f "$PIDS"
