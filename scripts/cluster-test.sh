#!/usr/bin/env bash
# make test-cluster: a real Slurm on this machine runs a sweep as a job array.
#
# Starts munged, slurmctld and slurmd on 127.0.0.1 from a scratch folder (nothing in /etc
# or /run is touched), then:
#   1. writes a 4-task quick sweep (fmp-tiny, 2 region variants x 2 seeds) with cnn sweep
#      and submits its sweep.sbatch;
#   2. cancels task 0 with scancel once it has saved an epoch, checks that cnn report
#      lists it as unfinished, and submits that task again;
#   3. waits for the array and checks that the resubmitted task resumed (its log says so)
#      and that cnn report shows 4 finished, tested runs.
# Where Slurm cannot be started (no slurm-wlm or munge, not root), it says so loudly and
# exits 77, which make test reports at the end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cnn="$repo/target/debug/cnn"
skip() {
  echo "SKIPPED the Slurm test: $*"
  exit 77
}

if [ ! -x "$cnn" ]; then
  (cd "$repo" && cargo build --locked --quiet --bin cnn)
fi
[ "$(id -u)" = 0 ] || skip "it starts slurmd, which needs root (run make test-cluster as root)"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  if command -v apt-get >/dev/null; then
    echo "installing Debian's slurm-wlm and munge for the cluster test"
    (apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 ||
      (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1)) ||
      true
  fi
fi
for tool in munged mungekey slurmctld slurmd sbatch squeue scancel sinfo; do
  command -v "$tool" >/dev/null || skip "no $tool here (Debian: apt-get install slurm-wlm munge)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cnn-cluster-test.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAILED: $*"
  for log in slurmctld slurmd munged; do
    [ -f "$work/$log.log" ] && { echo "--- last lines of $log.log"; tail -n 15 "$work/$log.log"; }
  done
  for log in "$work"/runs/cluster-test/logs/*.out; do
    [ -f "$log" ] && { echo "--- $log"; tail -n 8 "$log"; }
  done
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Polls `$1` (a command) every second until it succeeds, for at most $2 seconds.
wait_for() {
  local i
  for ((i = 0; i < $2; i++)); do
    if eval "$1"; then return 0; fi
    sleep 1
  done
  return 1
}

echo "== starting munged, slurmctld and slurmd in $work"
mkdir -p "$work"/{state,spool,munge}
chmod 700 "$work/munge"
mungekey --create --keyfile "$work/munge/munge.key" --force >/dev/null 2>&1 ||
  dd if=/dev/urandom of="$work/munge/munge.key" bs=1 count=128 status=none
chmod 400 "$work/munge/munge.key"
munged --foreground --force --socket "$work/munge/munge.socket" \
  --key-file "$work/munge/munge.key" --log-file "$work/munged.log" \
  --pid-file "$work/munge/munged.pid" --seed-file "$work/munge/munged.seed" \
  >"$work/munged.out" 2>&1 &
pids+=($!)
wait_for "[ -S '$work/munge/munge.socket' ]" 20 || fail "munged did not start"

node=$(hostname -s)
cpus=$(nproc)
export SLURM_CONF="$work/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=cnntest
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -c >"$work/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D >"$work/slurmd.out" 2>&1 &
pids+=($!)
wait_for "sinfo -h -o %T 2>/dev/null | grep -q idle" 60 ||
  fail "the node did not come up idle (sinfo: $(sinfo -h 2>&1 | head -3))"
echo "Slurm is up: $(sinfo -h -o '%P %D node(s) %c CPUs %T')"

echo "== cnn sweep, submitted with sbatch"
export CNN_RUNS_DIR="$work/runs" CNN_DATA_DIR="$work/data"
data=(--dataset fashion-mnist)
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  "$cnn" data synthetic --dataset fashion-mnist --out "$CNN_DATA_DIR/fashion-mnist" >/dev/null
fi
"$cnn" sweep cluster-test --models fmp-tiny --regions random-overlapping,pseudorandom-disjoint \
  --seeds 2 "${data[@]}" --quick --epochs 12 --cpus-per-task 1
sweep="$CNN_RUNS_DIR/cluster-test"
job=$(sbatch --parsable "$sweep/sweep.sbatch") || fail "sbatch refused the sweep's script"
job=${job%%;*}
echo "submitted job array $job"

echo "== scancel task 0 once it has saved an epoch, and submit it again"
# Each task's --run-name is its folder's name in the sweep's folder (the script sets
# CNN_RUNS_DIR to that folder).
name0=$(sed -n 's/^  0) exec .*--run-name \([^ ]*\) .*/\1/p' "$sweep/sweep.sbatch")
[ -n "$name0" ] || fail "cannot find task 0's run name in sweep.sbatch"
run0="$sweep/$name0"
wait_for "[ \$( { wc -l <'$run0/history.csv'; } 2>/dev/null || echo 0) -ge 3 ]" 300 ||
  fail "task 0 saved no epoch within 5 minutes"
scancel "${job}_0"
wait_for "[ -z \"\$(squeue -h -j ${job}_0 2>/dev/null)\" ]" 60 || fail "task 0 did not stop"
done_epochs=$(($(wc -l <"$run0/history.csv") - 1))
[ "$done_epochs" -lt 12 ] || fail "task 0 finished before it could be cancelled; give it more epochs"
echo "task 0 cancelled after $done_epochs of 12 epochs"
"$cnn" report "$sweep" >"$work/report-1.txt" || fail "cnn report failed on the cancelled sweep"
grep -q "unfinished ($done_epochs of 12 epochs)" "$work/report-1.txt" ||
  fail "cnn report does not list task 0 as unfinished: $(cat "$work/report-1.txt")"
again=$(sbatch --parsable --array=0 "$sweep/sweep.sbatch") || fail "sbatch refused task 0 again"
again=${again%%;*}

echo "== waiting for the array"
wait_for "[ -z \"\$(squeue -h -j $job,$again 2>/dev/null)\" ]" 600 || fail "the sweep did not finish in 10 minutes"
grep -q "resuming run .* after epoch $done_epochs" "$sweep/logs/task-0.out" ||
  fail "task 0 did not resume from epoch $done_epochs: $(tail -n 5 "$sweep/logs/task-0.out")"
"$cnn" report "$sweep" | tee "$work/report-2.txt"
finished=$(grep -c '^| fmp-tiny-.* | finished |' "$work/report-2.txt" || true)
[ "$finished" = 4 ] || fail "cnn report shows $finished finished runs, not 4"
tested=$(find "$sweep" -name test.json | wc -l)
[ "$tested" = 4 ] || fail "$tested of 4 runs were tested"
echo "PASSED: 4 tasks ran as a Slurm job array; task 0, cancelled after $done_epochs epoch(s), resumed and finished; cnn report lists 4 finished, tested runs"
