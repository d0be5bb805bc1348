#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for testing sweeps against a real Slurm.
#
#   scripts/slurm-local.sh start    install (Debian's slurm-wlm and munge) if missing, write
#                                   the config, start munged, slurmctld and slurmd as root,
#                                   and wait until `sinfo` shows the node idle
#   scripts/slurm-local.sh stop     stop the three daemons
#   scripts/slurm-local.sh status   sinfo and squeue
#
# Everything lives under $SLURM_LOCAL_DIR (default /tmp/slurm-local): the config, the state,
# the logs and the munge key, so nothing of the machine's own /etc is changed. The node is this
# host with its cores and memory; jobs run as root (SlurmUser = root), which is what a CI
# machine has. Needs root and Debian's package archive (apt-get).
set -euo pipefail

DIR="${SLURM_LOCAL_DIR:-/tmp/slurm-local}"
CONF="$DIR/etc/slurm.conf"
export SLURM_CONF="$CONF"

die() {
  echo "slurm-local: $*" >&2
  exit 1
}

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null; then
    return
  fi
  [ "$(id -u)" = 0 ] || die "installing slurm-wlm and munge needs root"
  echo "slurm-local: installing slurm-wlm and munge (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
}

write_config() {
  mkdir -p "$DIR"/{etc,state/ctld,state/d,log,run,munge}
  local host cpus mem_mb
  host="$(hostname -s)"
  cpus="$(nproc)"
  # RealMemory a little under the total, in MB, so that slurmd's own check accepts it.
  mem_mb="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.95 }' /proc/meminfo)"
  cat >"$CONF" <<EOF
ClusterName=local
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=$DIR/state/ctld
SlurmdSpoolDir=$DIR/state/d
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MaxArraySize=10001
NodeName=$host CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  if [ ! -s "$DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 700 "$DIR/munge"
  chmod 400 "$DIR/munge/munge.key"
}

start() {
  [ "$(id -u)" = 0 ] || die "start needs root (the daemons run as root)"
  install_packages
  stop_quietly
  write_config
  munged --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
    --seed-file="$DIR/munge/munge.seed" --force
  # Slurm's munge plugins look for the daemon's socket at the compiled-in path.
  mkdir -p /run/munge
  ln -sf "$DIR/munge/munge.socket" /run/munge/munge.socket.2
  slurmctld -f "$CONF"
  slurmd -f "$CONF"
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qx 'idle'; then
      echo "slurm-local: the node is idle ($(nproc) CPUs); SLURM_CONF=$CONF"
      return
    fi
    sleep 1
  done
  echo "--- slurmctld.log" >&2
  tail -20 "$DIR/log/slurmctld.log" >&2 || true
  echo "--- slurmd.log" >&2
  tail -20 "$DIR/log/slurmd.log" >&2 || true
  die "the node did not become idle within 60 s (logs above, in $DIR/log)"
}

stop_quietly() {
  for pidfile in "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"; do
    if [ -s "$pidfile" ]; then
      kill "$(cat "$pidfile")" 2>/dev/null || true
    fi
  done
  for _ in $(seq 1 20); do
    pgrep -f "slurm(ctld|d) -f $CONF" >/dev/null || break
    sleep 0.5
  done
}

case "${1:-}" in
  start) start ;;
  stop)
    stop_quietly
    echo "slurm-local: stopped"
    ;;
  status)
    sinfo
    squeue
    ;;
  *) die "usage: $0 start|stop|status" ;;
esac
