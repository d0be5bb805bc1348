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
# the logs and the munge key, so nothing of the machine's own /etc is changed (only the link
# /run/munge/munge.socket.2, where Slurm's munge plugin looks, when no munged serves it). The
# node is this host with its cores and memory, reached at 127.0.0.1 (the host name need not
# resolve); jobs run as root (SlurmUser = root), which is what a CI machine has. Needs root and
# Debian's package archive (apt-get). Commands that talk to the cluster need
# SLURM_CONF=/tmp/slurm-local/etc/slurm.conf (printed by start).
set -euo pipefail

DIR="${SLURM_LOCAL_DIR:-/tmp/slurm-local}"
CONF="$DIR/etc/slurm.conf"
export SLURM_CONF="$CONF"
# The node's name (it need not resolve: the daemons talk over 127.0.0.1).
HOST="$(hostname -s 2>/dev/null || true)"
[ -n "$HOST" ] || HOST=localhost

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
  local host="$HOST" cpus mem_mb
  cpus="$(nproc)"
  # RealMemory a little under the total, in MB, so that slurmd's own check accepts it.
  mem_mb="$(awk '/MemTotal/ { printf "%d", $2 / 1024 * 0.95 }' /proc/meminfo)"
  cat >"$CONF" <<EOF
ClusterName=local
SlurmctldHost=$host(127.0.0.1)
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
# A container may show the host's memory and cores: the node is what this file says.
SlurmdParameters=config_overrides
# Without a default, a job is given the whole node's memory and the tasks of an array run one
# at a time; with it each task takes its CPU's share.
DefMemPerCPU=$((mem_mb / cpus))
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  if [ ! -s "$DIR/munge/munge.key" ]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
  fi
  chmod 700 "$DIR/munge"
  chmod 400 "$DIR/munge/munge.key"
}

# True when a munged answers on the socket Slurm's munge plugin uses.
munge_answers() {
  command -v munge >/dev/null && munge -n -S /run/munge/munge.socket.2 2>/dev/null | unmunge -S /run/munge/munge.socket.2 >/dev/null 2>&1
}

# Dies if a Slurm daemon that this script did not start is running (a distribution's service,
# say): two slurmctld on one port cannot both work.
refuse_foreign_daemons() {
  local name pid
  for name in slurmctld slurmd; do
    for pid in $(pgrep -x "$name" || true); do
      if ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-f $CONF"; then
        die "a $name not started by this script is running (pid $pid); stop it first (systemctl stop $name, or kill $pid)"
      fi
    done
  done
}

start() {
  [ "$(id -u)" = 0 ] || die "start needs root (the daemons run as root)"
  install_packages
  stop_quietly
  refuse_foreign_daemons
  write_config
  mkdir -p /run/munge
  # A munged already serving the standard socket (the package's service) is used as it is;
  # otherwise ours serves it, with the key generated above.
  if ! munge_answers; then
    rm -f /run/munge/munge.socket.2
    munged --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
      --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
      --seed-file="$DIR/munge/munge.seed" --force
    ln -sf "$DIR/munge/munge.socket" /run/munge/munge.socket.2
    munge_answers || die "munged does not answer (log: $DIR/log/munged.log)"
  fi
  # -c: a clean state (no jobs of an earlier cluster); -N: the node's name whatever the host
  # name resolves to.
  slurmctld -c -f "$CONF"
  slurmd -f "$CONF" -N "$HOST"
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
  local pids="" pidfile pid alive
  for pidfile in "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"; do
    if [ -s "$pidfile" ]; then
      pid="$(cat "$pidfile")"
      kill "$pid" 2>/dev/null && pids="$pids $pid"
    fi
  done
  # Wait (up to 15 s) until they are gone: a new slurmctld cannot take the port before.
  for _ in $(seq 1 60); do
    alive=""
    for pid in $pids; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    [ -z "$alive" ] && break
    sleep 0.25
  done
  rm -f "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid"
  rm -f "$DIR/munge/munged.pid"
  # The link to our munged's socket goes with it (a package's own socket is left alone).
  if [ "$(readlink /run/munge/munge.socket.2 2>/dev/null)" = "$DIR/munge/munge.socket" ]; then
    rm -f /run/munge/munge.socket.2
  fi
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
