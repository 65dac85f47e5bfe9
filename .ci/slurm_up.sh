#!/usr/bin/env bash
# Bring up a one-node SLURM cluster (munge + slurmctld + slurmd) on loopback for algrid's CI tests.
# Needs root and Debian's slurmctld slurmd slurm-client munge. Idempotent: if a cluster already answers
# at $SLURM_CONF it does nothing. Records the pids of the daemons it started in $DIR/started.pids, so that
# slurm_down.sh stops exactly those (never a daemon someone else started).
set -euo pipefail
export SLURM_CONF=${SLURM_CONF:-/tmp/slurm-ci/slurm.conf}
DIR=$(dirname "$SLURM_CONF")
HERE=$(cd "$(dirname "$0")" && pwd)
t0=$(date +%s%N)

if [ -s "$SLURM_CONF" ] && timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; then
  echo "slurm already up at $SLURM_CONF"; sinfo; exit 0
fi
for bin in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd sbatch; do
  command -v "$bin" >/dev/null || { echo "slurm_up.sh: $bin not found (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 1; }
done

mkdir -p "$DIR/state" "$DIR/spool"
: > "$DIR/started.pids"
mem_mb=$(awk '/MemTotal/{print int($2/1024*0.8)}' /proc/meminfo)
sed -e "s|@DIR@|$DIR|g" -e "s|@CPUS@|$(nproc)|g" -e "s|@MEM_MB@|$mem_mb|g" "$HERE/slurm.conf" > "$SLURM_CONF"

wait_pidfile() {  # wait_pidfile FILE NAME: record the daemon's pid once it has written its pid file
  for _ in $(seq 1 100); do
    if [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; then echo "$2 $(cat "$1")" >> "$DIR/started.pids"; return 0; fi
    sleep 0.1
  done
  echo "slurm_up.sh: $2 did not start (see $DIR/*.log)" >&2; return 1
}

# munge: the Debian postinst creates the key; create one if it is missing
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile /etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
fi
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  echo "munge already running (left alone)"
else
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 755 /run/munge
  rm -f /run/munge/munged.pid
  runuser -u munge -- /usr/sbin/munged
  wait_pidfile /run/munge/munged.pid munged
  munge -n | unmunge >/dev/null
fi

/usr/sbin/slurmctld            # daemonizes; pid in SlurmctldPidFile
wait_pidfile "$DIR/slurmctld.pid" slurmctld
/usr/sbin/slurmd -N localhost  # daemonizes; pid in SlurmdPidFile
wait_pidfile "$DIR/slurmd.pid" slurmd

for _ in $(seq 1 120); do
  st=$(sinfo -h -N -o %t 2>/dev/null || true)
  [ "$st" = "idle" ] && break
  sleep 0.25
done
sinfo
[ "$st" = "idle" ] || { echo "slurm_up.sh: node not idle (state '$st'); see $DIR/slurmctld.log $DIR/slurmd.log" >&2; exit 1; }
echo "slurm up in $(( ($(date +%s%N) - t0) / 1000000 )) ms (SLURM_CONF=$SLURM_CONF)"
