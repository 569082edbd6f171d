#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, to run docs/cluster/greatgame-array.sbatch for
# real: a run and a sensitivity analysis, each as a 4-task job array whose first task
# submits the merge, then a check that each merged result equals a single-machine run
# byte for byte (every file; manifest.json but its command_line).
#
#   tests/cluster/slurm_local.sh            # from the repository's root
#
# Needs Debian or Ubuntu with apt-get, and root (or sudo without a password) to install
# slurm-wlm and munge if they are missing and to start munged, slurmctld and slurmd. The
# cluster's configuration, state and logs live in a temporary folder; the daemons are
# stopped when the script ends. Takes a few minutes (most of it the release build).
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi; }

# 1. Install what is missing.
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge
fi
# GREATGAME: a greatgame binary to use instead of building one.
if [[ -z "${GREATGAME:-}" ]]; then
    cargo build --release --manifest-path "$repo/Cargo.toml" -q
fi
greatgame="${GREATGAME:-$repo/target/release/greatgame}"

# 2. A one-node cluster in a temporary folder.
work="$(mktemp -d)"
conf="$work/slurm.conf"
node="$(hostname -s)"
cpus="$(nproc)"
mem_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
mkdir -p "$work/state" "$work/spool" "$work/log" "$work/run"
cat > "$conf" <<EOF
ClusterName=greatgame-local
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
NodeName=$node CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$conf"

started=()
cleanup() {
    for pid in "${started[@]}"; do as_root kill "$pid" 2>/dev/null || true; done
    echo "cluster files (logs, configuration): $work"
}
trap cleanup EXIT

if [[ ! -s /etc/munge/munge.key ]]; then
    as_root mkdir -p /etc/munge
    as_root dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
    as_root chmod 400 /etc/munge/munge.key
fi
as_root mkdir -p /run/munge /var/log/munge /var/lib/munge
if ! munge -n >/dev/null 2>&1; then
    as_root munged --force --socket=/run/munge/munge.socket.2 --pid-file="$work/run/munged.pid"
    sleep 1
    started+=("$(cat "$work/run/munged.pid")")
fi
as_root slurmctld -f "$conf"
as_root slurmd -f "$conf"
sleep 2
started+=("$(cat "$work/run/slurmd.pid")" "$(cat "$work/run/slurmctld.pid")")
for _ in $(seq 30); do
    if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed'; then break; fi
    sleep 1
done
sinfo

# 3. A run and a sensitivity analysis through the array job, each checked against a
#    single-machine run.
scratch="$work/jobs"
mkdir -p "$scratch"
# The baseline and the files it names (its calibrated parameter sets).
cp "$repo/scenarios/baseline.toml" "$scratch/"
cp -r "$repo/scenarios/calibration" "$scratch/"
cat > "$scratch/small.toml" <<'EOF'
extends = "baseline.toml"
name = "small"
[time]
horizon_quarters = 16
EOF
cd "$scratch"

# Compares two output folders: every file the same but manifest.json's command_line.
same_output() {
    diff -r -x manifest.json "$1" "$2"
    diff <(sed '/"command_line": \[/,/\]/d' "$1/manifest.json") \
         <(sed '/"command_line": \[/,/\]/d' "$2/manifest.json")
}

check() { # name, folder in results/, greatgame arguments...
    local name="$1" folder="$2"
    shift 2
    rm -rf shards results logs single
    mkdir -p logs
    local started_at=$SECONDS
    GREATGAME="$greatgame" sbatch --wait --array=0-3 --cpus-per-task=1 --mem=500M \
        "$repo/docs/cluster/greatgame-array.sbatch" "$@" >/dev/null || {
        echo "FAILED: $name: the array job failed; logs:" >&2
        tail -n 20 logs/* >&2 || true
        return 1
    }
    # The merge job was submitted by task 0 with a dependency on the array.
    for _ in $(seq 600); do
        if [[ -z "$(squeue -h)" ]]; then break; fi
        sleep 1
    done
    if [[ ! -d "results/$folder" ]]; then
        echo "FAILED: $name: no results/$folder; logs:" >&2
        tail -n 20 logs/* >&2
        return 1
    fi
    "$greatgame" "$@" --out single --quiet >/dev/null
    same_output "single/$folder" "results/$folder"
    echo "ok: $name: 4 array tasks and the merge in $((SECONDS - started_at)) s; merged == single machine"
}

check "run" small run small.toml --replicates 2000
check "sensitivity" sensitivity-small sensitivity small.toml --samples 8 --trajectories 4 --replicates 8
echo "slurm_local: passed ($(sinfo -V), $(date -u +%Y-%m-%d))"
