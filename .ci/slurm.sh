#!/usr/bin/env bash
# Installs and starts a one-node Slurm cluster (slurmctld + slurmd + munged on this machine), for the tests
# that submit real jobs. Meant for CI (.ci/run, root, fresh Debian 12, no systemd as PID 1) and for a developer's
# machine of the same kind. Idempotent: when `sinfo` already shows the node up, it does nothing more.
# Takes about 10 s from nothing (apt included), well under a second when Slurm is already up.
#
# The daemons are started directly, not through systemd or invoke-rc.d: nothing here runs an init system.
# Configuration goes to /etc/slurm/slurm.conf, the path Debian's Slurm reads by default, so no SLURM_CONF is needed.
set -euo pipefail

HOST="$(hostname -s)"
CONF=/etc/slurm/slurm.conf
LOG_DIR=/var/log/slurm
# Bounds on every wait, so that a broken setup fails CI quickly instead of hanging it.
UP_TIMEOUT_S=60
SMOKE_TIMEOUT_S=120

log() { echo "slurm.sh: $*"; }

# Packages, daemons and /etc need root: CI runs as root; elsewhere passwordless sudo will do.
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        exec sudo -n "$0" "$@"
    fi
    echo "slurm.sh: must run as root (or with passwordless sudo)" >&2
    exit 1
fi

# The node's state as sinfo prints it (idle, mix, alloc, down*, drain, ...), or nothing while slurmctld does not
# answer. Trailing flags such as '*' (not responding) are kept: they matter.
node_state() { sinfo -h -n "$HOST" -o %t 2>/dev/null | head -n1 || true; }

# idle, mix and alloc (and completing) all mean the node is up and accepting work; another user of the cluster may
# already have jobs on it, which must not make a second run of this script restart anything.
node_is_up() {
    case "$(node_state)" in
        idle | mix | alloc | comp) return 0 ;;
        *) return 1 ;;
    esac
}

# A daemon counts as running when the process named in its pid file is alive. A stale pid file (after a reboot or
# a kill) is ignored, and the daemon started again.
running() {
    local pidfile="$1" pid
    [ -s "$pidfile" ] || return 1
    pid="$(cat "$pidfile")"
    kill -0 "$pid" 2>/dev/null
}

dump_logs() {
    for f in "$LOG_DIR"/slurmctld.log "$LOG_DIR"/slurmd.log /var/log/munge/munged.log; do
        [ -f "$f" ] || continue
        echo "---- tail of $f"
        tail -n 40 "$f" || true
    done
}

fail() {
    echo "slurm.sh: ERROR: $*" >&2
    dump_logs >&2
    exit 1
}

# Only ask sinfo when slurmctld runs: with none to answer, sinfo spends seconds retrying before it gives up.
if command -v sinfo >/dev/null && running /run/slurmctld.pid && node_is_up; then
    log "Slurm is already up on $HOST; nothing to do."
    sinfo
    exit 0
fi

# ---- 1. packages
if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    log "installing slurm-wlm and munge"
    start=$SECONDS
    apt-get update -q
    # The packages' postinst scripts try to start their services; policy-rc.d (where present) or the lack of
    # systemd stops that, harmlessly: the daemons are started below.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge
    log "installed in $((SECONDS - start)) s"
fi

# ---- 2. MUNGE, which authenticates every message between Slurm's commands and daemons
if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    install -d -o munge -g munge -m 700 /etc/munge
    if command -v mungekey >/dev/null; then
        mungekey --create --keyfile=/etc/munge/munge.key
    else
        dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
    fi
fi
# munged refuses a key that others can read or that is not its own.
chown munge:munge /etc/munge/munge.key
chmod 400 /etc/munge/munge.key
# /run is a tmpfs: its munge folder (socket and pid file) is gone after every boot, and only systemd's unit
# would have made it.
install -d -o munge -g munge -m 755 /run/munge
install -d -o munge -g munge -m 700 /var/log/munge
install -d -o munge -g munge -m 711 /var/lib/munge

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "starting munged"
    # As its own user, as the packaged systemd unit does. A stale socket from a killed munged would make it refuse
    # to start; --force lets it replace that socket.
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 1 20); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.5
    done
fi
munge -n | unmunge >/dev/null || fail "munge -n | unmunge does not work"
log "munge works"

# ---- 3. slurm.conf
CPUS="$(nproc)"
MEM_TOTAL_MB="$(free -m | awk '/^Mem:/ {print $2}')"
# A little below what the kernel reports: slurmd drains a node whose real memory is below RealMemory, and the
# total it reads can differ slightly from free's.
REAL_MEM_MB=$((MEM_TOTAL_MB * 95 / 100))
# With memory a consumable resource, a job that asks for no memory would otherwise be given the whole node's, and
# jobs would run one at a time; this default lets one job per CPU run at once.
DEF_MEM_PER_CPU_MB=$((REAL_MEM_MB / CPUS))

install -d -m 755 /etc/slurm
NEW_CONF="$(mktemp)"
cat >"$NEW_CONF" <<EOF
# Written by .ci/slurm.sh: a one-node cluster for tests. Regenerated on every run that has to start Slurm.
ClusterName=ci
# NodeAddr/SlurmctldHost's address: 127.0.0.1, so that nothing depends on the host name resolving.
SlurmctldHost=${HOST}(127.0.0.1)
# root: the simplest in CI; the daemons need no separate slurm user and its folder permissions.
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
# Both daemons still log 'can not load PMIx library' errors at start: harmless, no job uses MPI.
MpiDefault=none
# No cgroups: linuxproc tracks a job's processes through their parent ids, and no task plugin binds them.
# (No cgroup.conf is written on purpose: a 'CgroupPlugin=disabled' there makes slurmd refuse to start.)
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=${DEF_MEM_PER_CPU_MB}
SchedulerType=sched/backfill
# By default slurmctld launches newly runnable batch jobs at most every 3 s, so an array of short tasks crawls
# (6 'true' tasks on 2 CPUs: 7-9 s); without the delay they start within about 1 s (2-3 s for the same array).
SchedulerParameters=batch_sched_delay=0
# A node that was down comes back by itself as soon as its slurmd registers with a valid configuration.
ReturnToService=2
# No accounting database: sacct is not available; squeue and scontrol show jobs.
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
# Every finished job, one line each (id, name, state, start and end), so that CI's log can show the jobs the
# tests ran after they are gone from squeue.
JobCompType=jobcomp/filetxt
JobCompLoc=${LOG_DIR}/jobs.log
# No mail program is installed, and tests send no mail.
MailProg=/bin/true
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=${LOG_DIR}/slurmctld.log
SlurmdLogFile=${LOG_DIR}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=${HOST} NodeAddr=127.0.0.1 CPUs=${CPUS} RealMemory=${REAL_MEM_MB} State=UNKNOWN
# OverSubscribe is left at NO: one task per CPU at once (--oversubscribe changes nothing; --cpus-per-task=N
# makes a task take N CPUs).
PartitionName=debug Nodes=${HOST} Default=YES MaxTime=INFINITE State=UP
EOF
install -m 644 "$NEW_CONF" "$CONF"
rm -f "$NEW_CONF"
install -d -m 755 /var/spool/slurmctld /var/spool/slurmd "$LOG_DIR"
log "wrote $CONF (node $HOST, $CPUS CPUs, RealMemory=$REAL_MEM_MB MB)"

# ---- 4. daemons
if running /run/slurmctld.pid; then
    # It may have read an older slurm.conf: make it read this one.
    scontrol reconfigure || true
else
    log "starting slurmctld"
    slurmctld
fi
if ! running /run/slurmd.pid; then
    log "starting slurmd"
    slurmd
fi

log "waiting (at most ${UP_TIMEOUT_S} s) for node $HOST to be up"
start=$SECONDS
resumed=0
while ! node_is_up; do
    if [ $((SECONDS - start)) -ge "$UP_TIMEOUT_S" ]; then
        sinfo -N -l || true
        scontrol show node "$HOST" || true
        fail "node $HOST is not up after ${UP_TIMEOUT_S} s (state: '$(node_state)')"
    fi
    # A node left down or drained (for example by an earlier run's state in StateSaveLocation) stays so until
    # told otherwise; once is enough. 'down*' (not responding) is left alone: slurmd has not registered yet.
    case "$(node_state)" in
        down | drain | drng | drained | fail)
            if [ "$resumed" = 0 ]; then
                log "node is $(node_state): resuming it"
                scontrol update nodename="$HOST" state=resume || true
                resumed=1
            fi
            ;;
    esac
    sleep 1
done
log "node $HOST is $(node_state) after $((SECONDS - start)) s"

# ---- 5. smoke check: a small job array, the kind of job the tests submit
log "smoke check: a job array of 3 tasks"
rm -f /tmp/slurm-smoke-*.out
start=$SECONDS
# shellcheck disable=SC2016 # $SLURM_ARRAY_TASK_ID is for the job's shell to expand, not this one
job="$(sbatch --parsable --chdir=/tmp --array=0-2 --output=/tmp/slurm-smoke-%A_%a.out \
    --wrap 'echo task $SLURM_ARRAY_TASK_ID')"
job="${job%%;*}" # --parsable prints 'id;cluster' when there are several clusters
while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ]; do
    if [ $((SECONDS - start)) -ge "$SMOKE_TIMEOUT_S" ]; then
        squeue -j "$job" || true
        fail "smoke job $job did not finish in ${SMOKE_TIMEOUT_S} s"
    fi
    sleep 0.5
done
for i in 0 1 2; do
    out="/tmp/slurm-smoke-${job}_${i}.out"
    [ "$(cat "$out" 2>/dev/null)" = "task $i" ] || fail "smoke job ${job}_${i}: expected 'task $i' in $out, got '$(cat "$out" 2>/dev/null)'"
done
rm -f /tmp/slurm-smoke-*.out
log "smoke check passed: job $job (3 tasks) finished in $((SECONDS - start)) s"
sinfo
