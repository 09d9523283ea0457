#!/usr/bin/env bash
# One process per rank: every schedule kind under mpirun (-np 4) and some under the env
# launcher (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, as torchrun sets them) reproduce the
# sequential run's loss and gradients to 1e-12; rank 0 reports, the others print nothing;
# wrong process counts, missing variables and a missing rank end in one error line, never a hang.
# Argument 1: the ppsim binary. Needs mpirun (OpenMPI, installed by scripts/setup).
source "$(dirname "$0")/common.sh"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_btl_vader_single_copy_mechanism=none  # containers often forbid CMA
mpi() { timeout 120 mpirun --oversubscribe -np "$@"; }
small=(--ranks 4 --microbatches 8 --hidden 48 --rows 12 --timeout-ms 20000)

# Every kind over MPI, double precision: the JSON verdict and the exit code.
for kind in gpipe 1f1b interleaved-1f1b interleaved-1f1b-megatron zb1p zb2p zbv zbv-greedy v-half v-min dualpipe dualpipev; do
  out=$(mpi 4 "$ppsim" validate --backend cpu --launcher mpi --kind "$kind" "${small[@]}" --format json 2>"$work/err")
  rc=$?
  if [ $rc -eq 0 ] && grep -q '"match": true' <<<"$out" && grep -q '"launcher": "mpi"' <<<"$out" &&
     [ "$(grep -c '"kind"' <<<"$out")" -eq 1 ]; then ok; else bad "mpi $kind: exit $rc: $(head -c 300 "$work/err")"; fi
done
# MoE stages and float precision over MPI.
mpi 4 "$ppsim" validate --backend cpu --launcher mpi --kind dualpipe "${small[@]}" --experts 4 --top-k 2 >"$work/out" 2>&1 &&
  grep -q "MATCH" "$work/out" && ok || bad "mpi MoE: $(head -c 300 "$work/out")"
mpi 4 "$ppsim" validate --backend cpu --launcher mpi --kind zbv "${small[@]}" --precision float >"$work/out" 2>&1 &&
  grep -q "allowed 1.00e-04): MATCH" "$work/out" && ok || bad "mpi float: $(head -c 300 "$work/out")"
# The clocks: rank 0 states how well it aligned the others.
mpi 4 "$ppsim" validate --backend cpu --launcher mpi --kind 1f1b "${small[@]}" >"$work/out" 2>&1 &&
  grep -q "clocks aligned to rank 0 by ping-pong within" "$work/out" && ok || bad "mpi clocks: $(head -c 300 "$work/out")"
# The wrong number of processes: one error line per process, exit 2.
mpi 2 "$ppsim" validate --backend cpu --launcher mpi --kind 1f1b "${small[@]}" >"$work/out" 2>&1
grep -q "ppsim: error: --launcher mpi: 2 processes for a 4-rank schedule" "$work/out" && ok || bad "mpi wrong -np: $(head -c 300 "$work/out")"

# The GPU path under mpirun: here (no GPU, or no CUDA build) one line per process, exit 2.
mpi 2 "$ppsim" validate --backend cuda --launcher mpi --kind 1f1b --ranks 2 --microbatches 4 >"$work/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -q "ppsim: error: --backend cuda: " "$work/out"; then ok
elif [ $rc -eq 0 ] && grep -q "MATCH" "$work/out"; then ok  # a machine with two GPUs runs it
else bad "mpi cuda: exit $rc: $(head -c 300 "$work/out")"; fi

# A sweep split over processes: rank 0 writes exactly the single process's answer.
sweep=(size --model deepseek-v3 --gpu-counts 1024-2048 --kinds dualpipe,zbv,1f1b --format json --overlap simple --network simple)
"$ppsim" "${sweep[@]}" >"$work/one.json" 2>/dev/null
mpi 3 "$ppsim" "${sweep[@]}" >"$work/three.json" 2>"$work/three.err"
if cmp -s "$work/one.json" "$work/three.json" && grep -q "3 processes" "$work/three.err"; then ok
else bad "mpi size: differs from one process: $(head -c 300 "$work/three.err")"; fi
mpi 2 "$ppsim" size --model deepseek-v3 --launcher mpi --shard 0/2 >"$work/out" 2>&1
grep -q "ppsim: error: --launcher mpi: the processes are the shards" "$work/out" && ok || bad "mpi size with --shard: $(head -c 300 "$work/out")"

# The env launcher: four processes started by hand, as torchrun would.
# Below Linux's ephemeral range (32768-60999), so no other socket holds the port by chance.
port=$((20000 + RANDOM % 10000))
env_run() {  # env_run KIND [RANK to leave out] [deadline ms]: starts RANK 0..3 minus the skipped one
  local kind=$1 skip=${2:--1} deadline=${3:-20000}
  for r in 0 1 2 3; do
    [ "$r" -eq "$skip" ] && continue
    MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=4 RANK=$r LOCAL_RANK=$r \
      timeout 60 "$ppsim" validate --backend cpu --launcher env --kind "$kind" "${small[@]:0:8}" --timeout-ms "$deadline" \
      >"$work/env$r.out" 2>"$work/env$r.err" &
    pids[r]=$!
  done
  rcs=()
  for r in 0 1 2 3; do
    [ "$r" -eq "$skip" ] && continue
    wait "${pids[r]}"
    rcs[r]=$?
  done
  port=$((port + 1))
}
for kind in 1f1b dualpipev zb2p; do
  env_run "$kind"
  if [ "${rcs[0]}${rcs[1]}${rcs[2]}${rcs[3]}" = "0000" ] && grep -q "on 4 CPU processes (env launcher).*" "$work/env0.out" &&
     grep -q ": MATCH" "$work/env0.out" && [ ! -s "$work/env1.out" ] && [ ! -s "$work/env3.out" ]; then ok
  else bad "env $kind: exits ${rcs[*]}: $(cat "$work/env0.out" "$work/env0.err" | head -c 300)"; fi
done
# A rank that never starts: the others give up at their deadline with one line, never hang.
env_run 1f1b 2 3000
if [ "${rcs[0]}" -ne 0 ] && [ "${rcs[0]}" -ne 124 ] && [ "${rcs[1]}" -ne 124 ] && [ "$(wc -l <"$work/env0.err")" -eq 1 ] &&
   grep -q "^ppsim: .*deadline\|^ppsim: .*never got\|^ppsim: .*nothing" "$work/env0.err"; then ok
else bad "env missing rank: exits ${rcs[*]}: $(cat "$work/env0.err" | head -c 300)"; fi
# No variables: one line naming the first one missing.
expect_error "env without variables" "--launcher env: WORLD_SIZE is not set" -- validate --backend cpu --launcher env --kind 1f1b --ranks 2 --microbatches 2
expect_error "launcher with cuda single-gpu" "--launcher mpi --backend cuda: one process per GPU runs over NCCL; --mode single-gpu does not apply" -- validate --backend cuda --mode single-gpu --launcher mpi --kind 1f1b --ranks 2 --microbatches 2
expect_error "bad launcher" "--launcher = 'slurm' is not allowed" -- validate --launcher slurm --kind 1f1b --ranks 2 --microbatches 2

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
