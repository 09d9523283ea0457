#!/usr/bin/env bash
# End-to-end checks of the ppsim command: outputs, round trips through files, and that bad
# input gets exactly one error line and exit code 2 without leaving a partial file behind.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# expect_ok NAME PATTERN -- ARGS: exit 0 and stdout matching PATTERN
expect_ok() {
  local name=$1 pattern=$2
  shift 3
  local out
  out=$("$ppsim" "$@" 2>"$work/err")
  local rc=$?
  if [ $rc -ne 0 ]; then bad "$name: exit $rc: $(cat "$work/err")"; return; fi
  if ! grep -qE -- "$pattern" <<<"$out"; then bad "$name: stdout lacks /$pattern/"; return; fi
  ok
}

# The default job: DeepSeek-V3 on its published cluster, every schedule.
expect_ok "default job: the scenario" "^deepseek-v3 on h800-2048 \(2048 x NVIDIA H800" --
for kind in gpipe 1f1b zb1p zbv dualpipe dualpipev; do
  expect_ok "default job: $kind row" "^$kind +[0-9.]+ +[0-9.]+% +[0-9.]+% +[0-9.]+!? +[0-9.]+% +[0-9.]+ M" --
done
expect_ok "default job: gpipe does not fit" "^gpipe .* [0-9.]+! " --
expect_ok "default job: interleaved needs another batch" "^interleaved-1f1b +not available: schedule: interleaved-1f1b needs microbatches to be a multiple of rounds" --
# The unit-cost overview.
expect_ok "overview lists every kind" "dualpipev +16 +134" -- overview
for kind in gpipe 1f1b interleaved-1f1b zb1p zbv dualpipe; do
  expect_ok "overview: $kind simulated" "^$kind +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+%" -- overview
done
expect_ok "overview draws DualPipe" "^rank 7 \| F10b" -- overview
expect_ok "help" "schedule +generate" -- help
expect_ok "schedule help" "--stages-per-rank" -- schedule --help
expect_ok "devices" "GPUs: [0-9]+" -- devices

# Every kind exports in every format; json and csv read back to the same schedule.
for kind in gpipe 1f1b interleaved-1f1b zb1p zbv dualpipe dualpipev; do
  expect_ok "$kind ascii" "valid, no deadlock" -- schedule --kind "$kind" --ranks 4 --microbatches 8
  "$ppsim" schedule --kind "$kind" --ranks 4 --microbatches 8 --format csv --out "$work/$kind.csv" 2>/dev/null || bad "$kind csv export"
  "$ppsim" schedule --kind "$kind" --ranks 4 --microbatches 8 --format json --out "$work/$kind.json" 2>/dev/null || bad "$kind json export"
  a=$("$ppsim" schedule --from-csv "$work/$kind.csv" --format csv 2>/dev/null)
  b=$("$ppsim" schedule --from-json "$work/$kind.json" --format csv 2>/dev/null)
  if [ "$a" == "$(cat "$work/$kind.csv")" ] && [ "$a" == "$b" ]; then ok; else bad "$kind: csv/json round trip differs"; fi
done
expect_ok "json to stdout" '"kind": "dualpipe"' -- schedule --kind dualpipe --ranks 4 --microbatches 8 --format json
expect_ok "interleaved V=3" "36 stages|interleaved-1f1b: 12 ranks, 36 stages" -- schedule --kind interleaved-1f1b --ranks 12 --microbatches 24 --stages-per-rank 3

printf '0F0,0B0,0F1,0B1\n1F1,1B1,1F0,1B0\n' >"$work/deadlock.csv"

# Simulation: text, json, trace and picture.
expect_ok "simulate text" "step time \(makespan\): 66 us" -- simulate --kind dualpipe --ranks 8 --microbatches 20
expect_ok "simulate closed form" "closed form \(P/2-1\)\(F&B\+B-3W\) = 6 us .*hold$" -- simulate --kind dualpipe --ranks 8 --microbatches 20
expect_ok "simulate with links" "p2p latency 2 us, 50 GB/s" -- simulate --kind 1f1b --ranks 4 --microbatches 8 --p2p-latency-us 2 --p2p-bandwidth-gbps 50
expect_ok "bandwidth in bits" "p2p latency 2 us, 50 GB/s" -- simulate --kind 1f1b --ranks 4 --microbatches 8 --p2p-latency-us 2 --p2p-bandwidth 400Gb/s
# The new bandwidth names give the same answer as the old ones (GB/s), in any unit.
"$ppsim" simulate --model deepseek-v3 --inter-gbps 25 --intra-gbps 100 --format json >"$work/old-names.json" 2>"$work/err" || bad "old bandwidth names: $(cat "$work/err")"
"$ppsim" simulate --model deepseek-v3 --inter-bandwidth 200Gb/s --intra-bandwidth 100GB/s --format json >"$work/new-names.json" 2>"$work/err" || bad "new bandwidth names: $(cat "$work/err")"
cmp -s "$work/old-names.json" "$work/new-names.json" && ok || bad "--inter-bandwidth 200Gb/s / --intra-bandwidth 100GB/s differ from --inter-gbps 25 / --intra-gbps 100"
"$ppsim" simulate --kind zb1p --ranks 4 --microbatches 8 --format json --trace "$work/t.json" --svg "$work/t.svg" >"$work/sim.json" 2>"$work/err" || bad "simulate json: $(cat "$work/err")"
if python3 - "$work/sim.json" "$work/t.json" "$work/t.svg" <<'PY'
import json, sys, xml.dom.minidom
r = json.load(open(sys.argv[1]))
assert r["makespan"] == 27 and r["unit"] == "us", r["makespan"]
assert len(r["per_rank"]) == 4
for k in ("busy", "bubble", "bubble_fraction", "peak_activations", "exposed_comm"):
    assert all(k in p for p in r["per_rank"]), k
assert r["critical_path"][0]["start"] == 0 and r["critical_path"][-1]["end"] == 27
assert r["closed_form"]["conditions_hold"] is True and r["closed_form"]["bubble"] == 3
t = json.load(open(sys.argv[2]))
assert any(e["ph"] == "X" for e in t["traceEvents"]) and t["otherData"]["kind"] == "zb1p"
xml.dom.minidom.parse(sys.argv[3])
PY
then ok; else bad "simulate json/trace/svg content"; fi
printf '{"default": {"F": 1, "B": 2, "W": 1}, "stages": [{}, {"F": 1.5}, {}, {"B": 3}]}' >"$work/costs.json"
expect_ok "simulate with a cost table" "costs .*costs.json" -- simulate --kind 1f1b --ranks 4 --microbatches 8 --costs "$work/costs.json"
expect_ok "simulate a csv schedule" "step time" -- simulate --from-csv "$work/zbv.csv"
expect_ok "compare" "^dualpipe +8 +66 +6 +9.1%" -- compare
expect_ok "compare some kinds" "^dualpipev +not available: dualpipev needs microbatches >= 2 x ranks" -- compare --kinds zbv,dualpipev --ranks 4 --microbatches 6
if "$ppsim" compare --format json | python3 -c "import json,sys; doc=json.load(sys.stdin); d=doc['runs']; assert doc['schema_version']==1 and doc['mode']=='unit-costs'; assert len(d)==12 and all('makespan' in x or 'not_available' in x for x in d); assert 'makespan' in [x for x in d if x['kind']=='zb2p'][0]"; then ok; else bad "compare json"; fi

# Model scenarios.
expect_ok "simulate a model" "^per trillion tokens +1[6-9][0-9]\.?[0-9]* K GPU-hours" -- simulate --model deepseek-v3
expect_ok "simulate a model: memory" "^memory per GPU +[0-9.]+ GiB of 80 on rank" -- simulate --model deepseek-v3
expect_ok "simulate a model with overrides" "TP1 PP8 EP32 DP256" -- simulate --model deepseek-v3 --pp 8 --ep 32 --kind 1f1b --global-batch 4096
expect_ok "compare a model on another cluster" "^deepseek-v3 on h100-2048" -- compare --model deepseek-v3 --cluster h100-2048 --kinds dualpipe,1f1b
expect_ok "llama on MI300X" "mi300x-2048" -- simulate --model llama3-70b --cluster mi300x-2048
if "$ppsim" simulate --model deepseek-v3 --format json --trace "$work/ds.json" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['plan']['pp'] == 16 and d['plan']['ep'] == 64 and d['plan']['dp'] == 128, d['plan']
for k in ('step_seconds', 'mfu', 'memory_gib', 'run', 'per_trillion_tokens', 'bubble_fraction'): assert k in d, k
assert 0.9 * 180e3 < d['per_trillion_tokens']['gpu_hours'] < 1.1 * 180e3
assert d['memory_gib']['fits'] is True
t = json.load(open('$work/ds.json'))
assert t['otherData']['model'] == 'deepseek-v3'
"; then ok; else bad "simulate --model json/trace"; fi

cat >"$work/catalog.json" <<'JSON'
{"gpus": {"x1": {"name": "Example X1", "bf16_tflops": 500, "fp8_tflops": 1000, "hbm_gib": 96, "hbm_tbps": 4, "sms": 100,
                 "scale_up_gbps": 400, "nic_gbps": 50, "tdp_w": 600, "price_per_hour": 1.25}},
 "clusters": {"x1-512": {"gpu": "x1", "nodes": 64, "gpus_per_node": 8, "intra_gbps": 200, "inter_gbps": 50}}}
JSON
expect_ok "a user catalog" "on x1-512 \(512 x Example X1\)" -- simulate --model llama3-70b --catalog "$work/catalog.json" --cluster x1-512 --tp 2
expect_ok "catalog lists it" "x1 +Example X1" -- catalog --catalog "$work/catalog.json"
expect_ok "catalog lists the presets" "deepseek-v3 +61 layers" -- catalog
expect_ok "efficiency override" "step time" -- simulate --model llama3-8b --efficiency gemm=0.3,network=0.5
# Every parallel dimension, end to end: in the report, the JSON, compare and size.
expect_ok "CP at 128K tokens" "CP8 .* x 131072 tokens" -- simulate --model llama3-8b --cp 8 --seq-len 131072 --global-batch 512 --pp 1
expect_ok "CP ring in the report" "cp-ring \(cp\) +ring-p2p" -- simulate --model llama3-8b --cp 2 --pp 2
expect_ok "SP, ETP, ZeRO-3" "TP2\+SP PP16 EP64 ETP1 DP64 ZeRO-3" -- simulate --model deepseek-v3 --tp 2 --sp --etp 1 --zero 3
expect_ok "recompute modules and whole layers" "recompute core_attn,mlp \+ 2 whole layers per stage" -- simulate --model llama3-70b --recompute-modules core_attn,mlp --recompute-layers 2
expect_ok "uneven stages, overlapped grad reduce" "overlapped grad reduce" -- simulate --model llama3-8b --first-stage-layers 6 --last-stage-layers 8 --overlap-grad-reduce
expect_ok "NVLink domain of two nodes: TP16" "TP16 PP16" -- simulate --model llama3-405b --nvlink-domain 16 --tp 16
expect_error "TP straddling NVL72 racks" "tp = 16 does not divide the NVLink domain of 72 GPUs" -- simulate --model llama3-405b --cluster gb200-nvl72-2304 --nodes 512 --tp 16
expect_ok "compare with CP and SP" "^1f1b +[0-9.]+" -- compare --model llama3-70b --cp 2 --sp --kinds 1f1b,gpipe
expect_ok "size over CP sizes" "^h100 .* 1f1b +2 +2 " -- size --model llama3-8b --gpu-counts 64-64 --cp-options 1,2 --seq-len 32768 --sp --kinds 1f1b
"$ppsim" simulate --model mixtral-8x7b --cp 2 --sp --tp 2 --first-stage-layers 7 --last-stage-layers 9 --zero 2 --format json --trace "$work/mix.json" >"$work/mix-sim.json" || bad "plan flags json"
if python3 -c "
import json; r = json.load(open('$work/mix-sim.json')); p = r['plan']
assert (p['cp'], p['sp'], p['tp'], p['etp'], p['zero']) == (2, True, 2, 2, 2), p
assert p['stage_layers'] == [7, 8, 8, 9], p['stage_layers']
kinds = {c['what']: c for c in r['communication'] if c['stage'] == 1}
assert kinds['dispatch']['nic_bytes'] > 0 and kinds['tp']['nic_bytes'] == 0 and kinds['cp-ring']['nvlink_bytes'] > 0, kinds
assert r['grad_sync']['dense']['algorithm'] in ('ring', 'tree', 'hierarchical'), r['grad_sync']
t = json.load(open('$work/mix.json'))
comm = [e for e in t['traceEvents'] if e.get('cat') == 'comm' and e.get('ph') == 'X']
assert any(e['name'].startswith('tp ') and e['args']['link'] == 'nvlink' for e in comm)
assert any(e['name'].startswith('dispatch ') for e in comm) and any(e['name'].startswith('dp-sync ') for e in comm)
u = r['utilization']; b = r['step_breakdown_seconds']
assert u['mfu_noncausal_of_bf16_peak'] > u['mfu_causal_of_bf16_peak'] and u['hfu_of_run_precision_peak'] >= u['mfu_causal_of_run_precision_peak']
assert abs(b['total'] - r['step_seconds']) < 1e-6 * r['step_seconds'], (b, r['step_seconds'])
"; then ok; else bad "plan flags in the JSON and the trace"; fi

# The CPU runtime.
for kind in 1f1b zb1p dualpipe dualpipev; do
  expect_ok "validate $kind" "max relative error .*: MATCH" -- validate --backend cpu --kind "$kind" --ranks 4 --microbatches 8 --hidden 32 --rows 8
done
expect_ok "validate prints the prediction" "step time: measured [0-9.]+ (s|ms|us), predicted before the run [0-9.]+ (s|ms|us)" -- validate --kind 1f1b --ranks 2 --microbatches 4 --hidden 16 --trace "$work/measured.json" --predicted-trace "$work/predicted.json"
if python3 -c "import json,sys; t=json.load(open('$work/measured.json')); assert t['otherData']['source']=='measured on CPU threads'"; then ok; else bad "measured trace"; fi
if python3 -c "import json,sys; t=json.load(open('$work/predicted.json')); assert t['otherData']['source'].startswith('simulated'); assert len([e for e in t['traceEvents'] if e.get('ph')=='X'])>=16"; then ok; else bad "predicted trace"; fi
expect_ok "validate MoE stages (exit 0: MATCH)" "MoE stages \(4 experts, top-2\) of width 8" -- validate --kind dualpipev --ranks 2 --microbatches 4 --hidden 8 --rows 6 --experts 4 --top-k 2
expect_ok "validate op by op" "op by op: 16 ops, start times predicted within" -- validate --kind 1f1b --ranks 2 --microbatches 4 --hidden 16
"$ppsim" validate --kind dualpipe --ranks 4 --microbatches 8 --hidden 16 --rows 4 --format json >"$work/validate.json"
if python3 -c "
import json; r=json.load(open('$work/validate.json'))
assert r['match'] is True and r['max_relative_error'] <= 1e-12 and r['ops_compared'] == 62, r
assert len(r['measured_bubble_us']) == 4 and r['measured_step_us'] > 0 and r['where'] == '4 CPU threads'
"; then ok; else bad "validate --format json"; fi
expect_ok "validate a csv schedule" "MATCH" -- validate --from-csv "$work/zbv.csv" --hidden 16

# Cluster sizing.
# Shards, merges and formats on the quick model (JSON prices every plan in full: minutes under
# the sanitizers otherwise); the screened table below runs at full fidelity.
size_args=(size --model deepseek-v3 --gpus h800,h200 --gpu-counts 1024-2048 --kinds dualpipe,1f1b --overlap simple --network simple)
expect_ok "size table" "^Pareto front" -- "${size_args[@]}"
"$ppsim" "${size_args[@]}" --format json --out "$work/size-all.json" 2>/dev/null || bad "size json"
for i in 0 1 2; do "$ppsim" "${size_args[@]}" --format json --shard "$i/3" --out "$work/size-$i.json" 2>/dev/null || bad "size shard $i"; done
"$ppsim" size --merge "$work/size-0.json,$work/size-1.json,$work/size-2.json" --format json --out "$work/size-merged.json" 2>/dev/null || bad "size merge"
if cmp -s "$work/size-all.json" "$work/size-merged.json"; then ok; else bad "merged shards differ from one run"; fi
if python3 -c "
import json; d = json.load(open('$work/size-all.json'))
assert {'evaluated', 'pareto', 'infeasible'} <= d.keys() and d['evaluated'] and d['pareto']
assert all(r['gpu'] in ('h800', 'h200') for r in d['evaluated'])
"; then ok; else bad "size json content"; fi
expect_ok "size csv" "^id,gpu,gpus,kind" -- "${size_args[@]}" --format csv
# The table screens plans by lower bounds; it must show what simulating every plan shows.
"$ppsim" size --model deepseek-v3 --gpus h800,h200 --gpu-counts 1024-2048 --kinds dualpipe,zbv --top 5 >"$work/size-screened.txt" 2>"$work/size-screened.err" || bad "size screened"
"$ppsim" size --model deepseek-v3 --gpus h800,h200 --gpu-counts 1024-2048 --kinds dualpipe,zbv --top 5 --exhaustive >"$work/size-exhaustive.txt" 2>/dev/null || bad "size exhaustive"
if diff <(grep -v '^assumptions' "$work/size-screened.txt") <(grep -v '^assumptions' "$work/size-exhaustive.txt") >/dev/null &&
   grep -q "kept out of the answer by a lower bound" "$work/size-screened.err" && grep -q "as simulate" "$work/size-screened.txt"; then ok
else bad "size: the screened table differs from the exhaustive one"; fi

# A user's own schedule priced on a real model and cluster: the same step as the built-in kind.
"$ppsim" schedule --kind dualpipe --ranks 16 --microbatches 120 --format json --out "$work/dsv3-dualpipe.json" 2>/dev/null
"$ppsim" schedule --kind 1f1b --ranks 16 --microbatches 120 --format csv --out "$work/dsv3-1f1b.csv" 2>/dev/null
step() { "$ppsim" simulate --model deepseek-v3 "$@" --format json | python3 -c "import json,sys; print(json.load(sys.stdin)['step_seconds'])"; }
[ "$(step --from-json "$work/dsv3-dualpipe.json")" = "$(step)" ] && ok || bad "--model with --from-json: not the built-in DualPipe's step"
[ "$(step --from-csv "$work/dsv3-1f1b.csv")" = "$(step --kind 1f1b)" ] && ok || bad "--model with --from-csv: not the built-in 1F1B's step"
expect_ok "--model with --from-csv: the report names the file" "schedule csv from .*dsv3-1f1b.csv" -- simulate --model deepseek-v3 --from-csv "$work/dsv3-1f1b.csv"
"$ppsim" schedule --kind dualpipe --ranks 16 --microbatches 60 --format json --out "$work/dsv3-60.json" 2>/dev/null
expect_error "--model with a schedule of other micro-batches" "the schedule has 60 micro-batches but the plan's step has 120 .*give --global-batch 7680" -- simulate --model deepseek-v3 --from-json "$work/dsv3-60.json"
expect_error "--model with a schedule of other ranks" "the schedule has 16 ranks but the plan has PP = 8: give --pp 16" -- simulate --model deepseek-v3 --pp 8 --from-json "$work/dsv3-dualpipe.json"

# Conventions: --version, -h on every command, bash completion from the flag tables, and the
# catalog's JSON read back as --catalog.
expect_ok "version" "^ppsim [0-9]+\.[0-9]+\.[0-9]+$" -- --version
for cmd in overview schedule simulate compare validate size trace catalog devices accuracy kernels; do
  "$ppsim" "$cmd" -h 2>&1 | grep -q "^usage: ppsim $cmd" && ok || bad "$cmd -h"
done
"$ppsim" completion bash >"$work/ppsim-completion.bash" || bad "completion bash"
completed() {  # completed WORDS...: what the completion offers for the last word
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ppsim; echo "${COMPREPLY[*]}"' _ "$work/ppsim-completion.bash" "$@"
}
[ "$(completed ppsim simul)" = "simulate" ] && ok || bad "completion of a command: '$(completed ppsim simul)'"
[ "$(completed ppsim simulate --ki)" = "--kind" ] && ok || bad "completion of a flag: '$(completed ppsim simulate --ki)'"
completed ppsim size --ex | grep -qw -- "--exhaustive" && ok || bad "completion of size's flags"
"$ppsim" catalog --format json >"$work/catalog.json" || bad "catalog json"
"$ppsim" catalog --catalog "$work/catalog.json" --format json >"$work/catalog-again.json" 2>"$work/catalog.err" || bad "catalog json read back: $(cat "$work/catalog.err")"
cmp -s "$work/catalog.json" "$work/catalog-again.json" && ok || bad "catalog json changes when read back"
expect_ok "catalog json as --catalog" "dualpipe" -- simulate --model deepseek-v3 --catalog "$work/catalog.json"

# Bad input: one line, exit 2.
expect_error "size without a model" "--model is required" -- size --gpus h800
expect_error "size unknown gpu" "gpu 'h900' is not in the catalog" -- size --model deepseek-v3 --gpus h900
expect_error "size bad shard" "--shard = 'x': allowed i/n" -- size --model deepseek-v3 --shard x
expect_error "size bad counts" "gpu-counts 4096-1024: allowed 1 <= low <= high" -- size --model deepseek-v3 --gpu-counts 4096-1024
expect_error "validate a deadlocked schedule" "deadlock.csv: invalid csv schedule: deadlock" -- validate --from-csv "$work/deadlock.csv"
# The CUDA backend: runs where there is a GPU, and says in one line why not where there is none.
if "$ppsim" devices | grep -q "^built with CUDA: no"; then
  expect_error "validate on cuda, no CUDA build" "--backend cuda: this ppsim was built without CUDA" -- validate --backend cuda --kind 1f1b --ranks 2 --microbatches 2
elif "$ppsim" devices | grep -q "^GPUs: 0"; then
  expect_error "validate on cuda, no GPU" "--backend cuda: no usable GPU: " -- validate --backend cuda --kind 1f1b --ranks 2 --microbatches 2
else
  expect_ok "validate on cuda" "on 1 GPU .*MATCH" -- validate --backend cuda --kind dualpipe --ranks 2 --microbatches 4 --hidden 32
fi
expect_error "bad efficiency" "efficiency gemm = 2: allowed 0.01..1" -- simulate --model llama3-8b --efficiency gemm=2
printf '{"gpus": {"x2": {"bf16_tflops": "fast"}}}' >"$work/badcat.json"
expect_error "bad catalog entry" "badcat.json: gpus.x2.bf16_tflops: expected a number" -- simulate --model llama3-8b --catalog "$work/badcat.json"
expect_error "model with unit costs" "--unit-costs does not apply with --model" -- simulate --model deepseek-v3 --unit-costs F=1,B=2
expect_error "unknown model" "model 'deepseek-v4' is not in the catalog \(did you mean 'deepseek-v3'\?\)" -- simulate --model deepseek-v4
expect_error "layers do not split" "neither 62 nor 64 .* divides into 128 pipeline stages" -- simulate --model deepseek-v3 --pp 128 --ep 16
expect_error "GPUs not TP x PP x DP" "GPUs = 2048 \(256 nodes x 8\) is not TP x CP x PP x DP" -- simulate --model deepseek-v3 --pp 12
expect_error "EP does not divide experts" "ep = 48 does not divide the 256 routed experts" -- compare --model deepseek-v3 --ep 48
expect_error "fp8 on A100" "has no FP8 tensor cores" -- simulate --model deepseek-v3 --cluster a100-1024
expect_error "bad token count" "tokens = '14.8Q' has unit 'Q'" -- simulate --model deepseek-v3 --tokens 14.8Q
expect_error "bad price" "--price-per-gpu-hour = 'cheap'" -- simulate --model deepseek-v3 --price-per-gpu-hour cheap
expect_error "costs W >= B" "W = 3 must be >= 0 and < B = 2" -- simulate --kind 1f1b --unit-costs F=1,B=2,W=3
expect_error "costs unknown key" "key 'Q' is unknown" -- simulate --kind 1f1b --unit-costs F=1,B=2,Q=3
expect_error "negative latency" "--p2p-latency-us = '-1' is not a number" -- simulate --kind 1f1b --p2p-latency-us -1
expect_error "zero bandwidth" "--p2p-bandwidth-gbps = '0': allowed > 0" -- simulate --kind 1f1b --p2p-bandwidth-gbps 0
expect_error "costs for the wrong stages" "costs describe 4 stages but the schedule has 8" -- simulate --kind 1f1b --ranks 8 --microbatches 8 --costs "$work/costs.json"
expect_error "costs file missing" "cannot read '$work/nope.json': no such file" -- simulate --kind 1f1b --costs "$work/nope.json"
expect_error "both cost flags" "give --unit-costs or --costs, not both" -- simulate --kind 1f1b --unit-costs F=1,B=2 --costs "$work/costs.json"
expect_error "compare unknown kind" "--kinds: kind 'dualpype'" -- compare --kinds 1f1b,dualpype
expect_error "simulate deadlock" "deadlock.csv: invalid csv schedule: deadlock" -- simulate --from-csv "$work/deadlock.csv"
expect_error "misspelled kind" "did you mean 'dualpipe'" -- schedule --kind dualpip
expect_error "odd ranks for dualpipe" "dualpipe needs an even number of ranks" -- schedule --kind dualpipe --ranks 3 --microbatches 12
expect_error "too few micro-batches" "dualpipev needs microbatches >= 2 x ranks" -- schedule --kind dualpipev --ranks 4 --microbatches 6
expect_error "non-integer ranks" "--ranks = 'abc' is not an integer" -- schedule --kind 1f1b --ranks abc
expect_error "negative ranks" "--ranks = -4 is out of range" -- schedule --kind 1f1b --ranks -4
expect_error "absurd ranks" "--ranks = '1e30' is not an integer" -- schedule --kind 1f1b --ranks 1e30
expect_error "huge ranks" "--ranks = 99999999999999999999999 is out of range" -- schedule --kind 1f1b --ranks 99999999999999999999999
expect_error "huge micro-batches" "--microbatches = 2000000 is out of range; allowed: an integer in 1..1048576" -- schedule --kind gpipe --microbatches 2000000
expect_error "unknown flag" "unknown flag '--microbatch' \(did you mean '--microbatches'\?\)" -- schedule --kind 1f1b --microbatch 4
expect_error "missing value" "--ranks needs a value" -- schedule --kind 1f1b --ranks
expect_error "bad format" "--format = 'yaml' is not allowed" -- schedule --kind 1f1b --format yaml
expect_error "no source" "give exactly one of --kind, --from-csv, --from-json" -- schedule
expect_error "unknown command" "unknown command 'schedul' \(did you mean 'schedule'\?\)" -- schedul
expect_error "missing file" "cannot read '$work/none.csv': no such file" -- schedule --from-csv "$work/none.csv"
expect_error "folder as file" "not a regular file" -- schedule --from-json "$work"
expect_error "deadlocked csv" "deadlock.csv: invalid csv schedule: deadlock: a cycle of" -- schedule --from-csv "$work/deadlock.csv"
printf '0F0,0B0\n1F0,1B0,1B1\n' >"$work/missing.csv"
expect_error "incomplete csv" "micro-batch 1 stage 0: 0 forwards" -- schedule --from-csv "$work/missing.csv"
printf '{"kind": "x", "ranks": 2,' >"$work/truncated.json"
expect_error "truncated json" "truncated.json: not valid JSON" -- schedule --from-json "$work/truncated.json"
expect_error "unwritable output" "--out '$work/no/such/dir/x.csv': its folder '$work/no/such/dir' does not exist" -- schedule --kind 1f1b --ranks 2 --microbatches 2 --format csv --out "$work/no/such/dir/x.csv"
# Sweep progress where stderr is not a terminal: lines with done/total, the rate and the time left.
PPSIM_PROGRESS_EVERY_S=0 "$ppsim" size --model deepseek-v3 --gpu-counts 2048-2048 --kinds dualpipe,1f1b >/dev/null 2>"$work/progress"
grep -qE "^size: [0-9]+/[0-9]+ plans \([0-9]+%\), [0-9]+ per second, [0-9]+ s left" "$work/progress" && ok || bad "size progress lines: $(head -c 300 "$work/progress")"
PPSIM_PROGRESS_EVERY_S=0 "$ppsim" compare --ranks 4 --microbatches 8 >/dev/null 2>"$work/progress"
grep -qE "^compare: kinds simulated 12/12, [0-9]+ s$" "$work/progress" && ok || bad "compare progress lines: $(head -c 300 "$work/progress")"
# The sweep's answer a person acts on: the assumptions restated, the best plan per GPU, restricted options.
expect_ok "size restates its assumptions" "^assumptions: 14.8T tokens \(the model's plan\); GPUs h800 at \\\$2.00/GPU-hour, h100 at \\\$2.50/GPU-hour; 2048-2048 GPUs; limits: none; memory headroom 5% of HBM" -- size --model deepseek-v3 --gpus h800,h100 --gpu-counts 2048-2048 --kinds dualpipe
expect_ok "size: best per GPU" "^best per GPU \(its fastest plan, then its cheapest\):" -- size --model deepseek-v3 --gpus h800,h100 --gpu-counts 2048-2048 --kinds dualpipe
expect_ok "size: restricted options" "^h800 +2048 +dualpipe +1 +1 +16 +64 " -- size --model deepseek-v3 --gpu-counts 2048-2048 --kinds dualpipe --tp-options 1 --pp-options 16 --ep-options 64 --microbatch-options 1
# Outputs: devices and FIFOs written in place (never replaced), concurrent writers never mixed,
# a link planted at a temporary-looking name never followed.
"$ppsim" schedule --kind 1f1b --ranks 2 --microbatches 4 --format csv --out /dev/null && [ -c /dev/null ] && ok || bad "--out /dev/null"
mkfifo "$work/fifo"
cat "$work/fifo" >"$work/fifo.out" &
reader=$!
"$ppsim" schedule --kind zbv --ranks 2 --microbatches 4 --format csv --out "$work/fifo"
wait $reader
"$ppsim" schedule --kind zbv --ranks 2 --microbatches 4 --format csv >"$work/zbv.csv"
[ -p "$work/fifo" ] && cmp -s "$work/fifo.out" "$work/zbv.csv" && ok || bad "--out FIFO: not written in place"
"$ppsim" schedule --kind dualpipe --ranks 4 --microbatches 8 --format json >"$work/a.json"
"$ppsim" schedule --kind gpipe --ranks 4 --microbatches 64 --format json >"$work/b.json"
mixed=0
for i in 1 2 3 4 5; do
  "$ppsim" schedule --kind dualpipe --ranks 4 --microbatches 8 --format json --out "$work/same.json" &
  "$ppsim" schedule --kind gpipe --ranks 4 --microbatches 64 --format json --out "$work/same.json" &
  wait
  cmp -s "$work/same.json" "$work/a.json" || cmp -s "$work/same.json" "$work/b.json" || mixed=1
done
[ $mixed -eq 0 ] && ! ls "$work"/*.tmp-ppsim* >/dev/null 2>&1 && ok || bad "concurrent --out: a mixed file or a temporary left"
ln -s "$work/victim" "$work/x.json.tmp-ppsim"
"$ppsim" schedule --kind 1f1b --ranks 2 --microbatches 4 --format json --out "$work/x.json" && [ ! -e "$work/victim" ] && ok || bad "a planted link was followed"
rm -f "$work/x.json.tmp-ppsim"
# Schedule search: a table against every known kind, the best exported as JSON and CSV, and
# that schedule run for real by the CPU runtime (1e-12 against the sequential run).
expect_ok "search: the answer beside the known kinds" "^search \(from [a-z0-9-]+\) +[0-9.]+ +[0-9.]+ +[0-9]+  yes$" -- search --ranks 4 --microbatches 8 --unit-costs F=1,B=2,W=1,FB=2.5 --p2p-latency-us 0.5 --evaluations 500 --out "$work/found.json" --csv "$work/found.csv"
"$ppsim" validate --from-json "$work/found.json" >"$work/found.txt" 2>&1 && grep -q "MATCH" "$work/found.txt" && ok || bad "search: the found schedule does not run: $(head -c 300 "$work/found.txt")"
"$ppsim" schedule --from-csv "$work/found.csv" --format json --out "$work/found-from-csv.json" 2>/dev/null && ok || bad "search: the CSV does not read back"
# The bubble beside each step: 1F1B's is its closed form, (P - 1)(F + B) = 3 x 3 us on every rank.
"$ppsim" search --ranks 4 --microbatches 8 --from 1f1b --evaluations 1 --format json >"$work/bubble.json" 2>/dev/null &&
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); s=j["starts"][0]; sys.exit(not (s["kind"]=="1f1b" and s["bubble_us"]==9.0 and "bubble_us" in j["best"]))' "$work/bubble.json" &&
  ok || bad "search: 1F1B's bubble is not (P-1)(F+B) = 9 us: $(head -c 300 "$work/bubble.json")"
# Ranks sharing one core: any schedule's step is all the work, 4 ranks x 8 x (F + B) = 96 us.
"$ppsim" search --ranks 4 --microbatches 8 --from 1f1b --shared-cores 1 --evaluations 1 --format json >"$work/shared.json" 2>/dev/null &&
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(not (j["starts"][0]["step_us"]==96.0 and j["pipeline"].endswith("share 1 core")))' "$work/shared.json" &&
  ok || bad "search --shared-cores 1: the step is not the sum of the work: $(head -c 300 "$work/shared.json")"
expect_error "search --shared-cores with a model" "--shared-cores: not with --model" -- search --model deepseek-v3 --shared-cores 2
a=$("$ppsim" search --ranks 4 --microbatches 8 --evaluations 300 --seed 5 --format json | grep -v '"seconds"')
b=$("$ppsim" search --ranks 4 --microbatches 8 --evaluations 300 --seed 5 --format json | grep -v '"seconds"')
[ "$a" = "$b" ] && ok || bad "search: not the same answer for the same seed"
# Several walks: the same answer on one thread and on three, and a limit no known kind meets
# repaired into a schedule that fits.
a=$("$ppsim" search --ranks 4 --microbatches 8 --evaluations 300 --walks 3 --threads 1 --format json | grep -v '"seconds"')
b=$("$ppsim" search --ranks 4 --microbatches 8 --evaluations 300 --walks 3 --threads 3 --format json | grep -v '"seconds"')
[ "$a" = "$b" ] && echo "$a" | grep -q '"walks": 3' && ok || bad "search: several walks do not give one answer whatever the threads"
expect_ok "search: a limit no known kind meets" "^no known kind fits the limit: the search repaired [a-z0-9]+ until it fit" -- search --ranks 4 --microbatches 8 --max-in-flight 3 --evaluations 4000 --out "$work/repaired.json"
"$ppsim" validate --from-json "$work/repaired.json" >"$work/repaired.txt" 2>&1 && grep -q "MATCH" "$work/repaired.txt" && ok || bad "search: the repaired schedule does not run: $(head -c 300 "$work/repaired.txt")"
# SIGINT/SIGTERM stop a sweep: the signal's exit status, one line, no output and no temporary.
for sig in INT TERM; do
  # A script's background job starts with SIGINT ignored (and ppsim keeps a signal ignored):
  # env restores the default, as a terminal's Ctrl-C finds it.
  env --default-signal=INT "$ppsim" size --model deepseek-v3 --gpus h800,h100 --out "$work/stopped.json" 2>"$work/stopped.err" &
  pid=$!
  sleep 1
  kill -s "$sig" "$pid"
  wait "$pid"
  rc=$?
  want=$([ "$sig" = INT ] && echo 130 || echo 143)
  [ $rc -eq "$want" ] && grep -q "^ppsim: stopped by SIG$sig: nothing was written" "$work/stopped.err" &&
    [ ! -e "$work/stopped.json" ] && ! ls "$work"/stopped.json.tmp-ppsim* >/dev/null 2>&1 && ok ||
    bad "SIG$sig: exit $rc (expected $want): $(tail -c 200 "$work/stopped.err")"
done
# Predictions made before the run, and the held-out mode.
expect_ok "validate predicts before the run" "^step time: measured [0-9.]+ (s|ms|us), predicted before the run [0-9.]+ (s|ms|us)" -- validate --kind zbv --ranks 2 --microbatches 4 --hidden 32 --rows 8
expect_ok "validate labels the fit" "^fitted to this run \(a check of the simulator's rules, not a prediction(; each op on a core of its own)?\)" -- validate --kind 1f1b --ranks 2 --microbatches 4 --hidden 32 --rows 8
# More ranks than cores: the prediction before the run shares the cores among them (JSON says how many).
cores=$(nproc)
"$ppsim" validate --kind 1f1b --ranks 4 --microbatches 4 --hidden 32 --rows 8 --format json >"$work/shared-validate.json" 2>/dev/null &&
  python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["prediction_before_run"]; c=int(sys.argv[2]); sys.exit(not (p["shared_cores"]==(c if c<4 else 0) and p["cores"]==c))' "$work/shared-validate.json" "$cores" &&
  ok || bad "validate: shared cores not as the machine has them ($cores cores): $(head -c 300 "$work/shared-validate.json")"
expect_ok "held out: every kind" "^dualpipev +[0-9.]+ +[0-9.]+ +[-+][0-9.]+% +[0-9.]+ +[-+][0-9.]+%  match" -- validate --held-out --ranks 2 --microbatches 4 --hidden 32 --rows 8
expect_ok "held out: the summary" "held out \(fitted on zb1p\): mean \|error\|" -- validate --held-out --fit-kind zb1p --ranks 2 --microbatches 4 --hidden 32 --rows 8
expect_ok "held out: json" '"held_out_mean_abs_error"' -- validate --held-out --ranks 2 --microbatches 4 --hidden 32 --rows 8 --format json
# The compute model and the validation table.
expect_ok "kernels: the reference shape" "^ +16896 +1024 +8192 +1 +[0-9.]+ +794\.[0-9] +0\.803 +128x256 +1 +4  compute" -- kernels --gpu h100 --m 16896 --n 1024 --k 8192
expect_ok "kernels: a tiny GEMM is floored" "floor" -- kernels --gpu a100 --m 8 --n 8 --k 8
expect_ok "kernels: json" '"bound": "memory"' -- kernels --gpu h800 --precision fp8 --m 16 --n 4096 --k 7168 --groups 4 --format json

# calibrate --from-kineto: a PyTorch profiler trace made here (two ranks), its cost table
# simulated, and the efficiency a trace whose compute takes twice the model's prediction implies.
python3 - "$work" <<'PY'
import json, sys
def trace(path, device, fwd, mbs=4, scale=1.0):
    ev = []
    def k(name, stream, ts, dur):
        ev.append({"ph": "X", "cat": "kernel", "name": name, "pid": device, "tid": stream, "ts": ts, "dur": dur,
                   "args": {"device": device, "stream": stream}})
    for mb in range(mbs):
        t = 1e9 + 5 * mb * fwd * scale
        ev.append({"ph": "X", "cat": "gpu_user_annotation", "name": "forward", "pid": device, "tid": 7, "ts": t, "dur": fwd * scale})
        k("sm90_xmma_gemm_bf16", 7, t, 0.6 * fwd * scale)
        k("flash_fwd_kernel", 7, t + 0.6 * fwd * scale, 0.4 * fwd * scale)
        k("deep_ep::internode::dispatch", 20, t, 0.3 * fwd * scale)
        ev.append({"ph": "X", "cat": "gpu_user_annotation", "name": "backward", "pid": device, "tid": 7,
                   "ts": t + fwd * scale, "dur": 2 * fwd * scale})
        k("cutlass_gemm_backward", 7, t + fwd * scale, 2 * fwd * scale)
    json.dump({"traceEvents": ev}, open(path, "w"))
trace(f"{sys.argv[1]}/rank0.json", 0, 100)
trace(f"{sys.argv[1]}/rank1.json", 0, 120)
PY
expect_ok "calibrate: phases" "dispatch .* 4 kernels" -- calibrate --from-kineto "$work/rank0.json,$work/rank1.json"
"$ppsim" calibrate --from-kineto "$work/rank0.json,$work/rank1.json" --costs-out "$work/kineto-costs.json" >/dev/null 2>"$work/err" || bad "calibrate costs: $(cat "$work/err")"
expect_ok "calibrate: its cost table simulates" "step time \(makespan\): 1\.74 ms" -- simulate --kind 1f1b --ranks 2 --microbatches 4 --costs "$work/kineto-costs.json"
"$ppsim" calibrate --from-kineto "$work/rank0.json" --model llama3-8b --pp 1 --format json >"$work/cal.json" 2>"$work/err" || bad "calibrate --model: $(cat "$work/err")"
predicted_us=$(python3 -c "import json; print(json.load(open('$work/cal.json'))['implied']['predicted_compute_per_microbatch_seconds'] * 1e6)")
python3 - "$work" "$predicted_us" <<'PY'
import json, sys
# One micro-batch's compute (forward 1/3, backward 2/3 of it) at twice the prediction.
fwd = 2 * float(sys.argv[2]) / 3
ev = []
for mb in range(2):
    t = 1e6 + mb * 4 * fwd
    ev += [{"ph": "X", "cat": "gpu_user_annotation", "name": "forward", "pid": 0, "tid": 7, "ts": t, "dur": fwd},
           {"ph": "X", "cat": "kernel", "name": "sm90_gemm", "pid": 0, "tid": 7, "ts": t, "dur": fwd, "args": {"device": 0}},
           {"ph": "X", "cat": "gpu_user_annotation", "name": "backward", "pid": 0, "tid": 7, "ts": t + fwd, "dur": 2 * fwd},
           {"ph": "X", "cat": "kernel", "name": "sm90_gemm_bwd", "pid": 0, "tid": 7, "ts": t + fwd, "dur": 2 * fwd, "args": {"device": 0}}]
json.dump({"traceEvents": ev}, open(f"{sys.argv[1]}/slow.json", "w"))
PY
"$ppsim" calibrate --from-kineto "$work/slow.json" --model llama3-8b --pp 1 --format json >"$work/cal2.json" 2>"$work/err" || bad "calibrate slow: $(cat "$work/err")"
if python3 -c "import json; i=json.load(open('$work/cal2.json'))['implied']; assert abs(i['in_training'] - 0.42) < 1e-3, i; print(i['efficiency'])" >"$work/eff" 2>&1; then ok; else bad "calibrate: implied in_training: $(cat "$work/eff")"; fi
expect_ok "calibrate: the implied efficiency is accepted" "step" -- simulate --model llama3-8b --efficiency "$(cat "$work/eff")"

# Every JSON output carries schema_version; simulate's two modes share the keys that mean the same.
"$ppsim" simulate --kind dualpipe --ranks 4 --microbatches 8 --format json >"$work/j-unit.json" &&
  "$ppsim" simulate --model deepseek-v3 --format json >"$work/j-model.json" &&
  "$ppsim" compare --ranks 4 --microbatches 8 --format json >"$work/j-compare.json" &&
  "$ppsim" size --model llama3-8b --gpus h100 --gpu-counts 64-64 --kinds 1f1b --overlap simple --network simple --format json >"$work/j-size.json" 2>/dev/null &&
  "$ppsim" accuracy --format json >"$work/j-accuracy.json" &&
  "$ppsim" kernels --gpu h100 --m 512 --format json >"$work/j-kernels.json" &&
  "$ppsim" catalog --format json >"$work/j-catalog.json" &&
  "$ppsim" schedule --kind 1f1b --ranks 2 --microbatches 2 --format json >"$work/j-schedule.json" 2>/dev/null &&
  "$ppsim" validate --kind 1f1b --ranks 2 --microbatches 2 --format json --trace "$work/j-trace.json" >"$work/j-validate.json" &&
  "$ppsim" trace --summary "$work/j-trace.json" --format json >"$work/j-summary.json" || bad "json outputs: a command failed"
if python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
for name in ["unit", "model", "compare", "size", "accuracy", "kernels", "catalog", "schedule", "validate", "summary"]:
    doc = json.load(open(f"{w}/j-{name}.json"))
    assert doc.get("schema_version") == 1, name
assert json.load(open(f"{w}/j-trace.json"))["otherData"]["schema_version"] == 1
unit, model = json.load(open(f"{w}/j-unit.json")), json.load(open(f"{w}/j-model.json"))
shared = {"schema_version", "mode", "kind", "ranks", "stages", "microbatches", "unit", "makespan", "max_bubble", "events",
          "step_seconds", "pipeline_seconds", "bubble_fraction", "exposed_comm_fraction", "per_rank", "critical_path"}
assert shared <= set(unit) and shared <= set(model), (shared - set(unit), shared - set(model))
assert (unit["mode"], model["mode"]) == ("unit-costs", "model")
assert set(unit["per_rank"][0]) == set(model["per_rank"][0])
# makespan: the simulated span, which with a model includes the data-parallel sync's tail
assert model["pipeline_seconds"] <= model["makespan"] * 1e-6 + 1e-9 <= model["step_seconds"] + 2e-9
assert abs(unit["step_seconds"] - unit["makespan"] * 1e-6) < 1e-12 and 0 < unit["bubble_fraction"] < 1
PY
then ok; else bad "json outputs: schema_version or shared keys"; fi
expect_ok "accuracy: every case" "^sc21-table1-1008b +3072 " -- accuracy
expect_ok "accuracy: the summary" "^mean \|error\| [0-4]\.[0-9]%, max \|error\| [0-9]\.[0-9]% over 17 published runs" -- accuracy
expect_ok "accuracy: json" '"mean_abs_error"' -- accuracy --format json
expect_ok "accuracy: a sensitivity check" "^deepseek-v3-gpu-hours" -- accuracy --efficiency network=0.7
expect_ok "validation cases as a catalog" "sc21-gpt-1008b on selene \(3072 x NVIDIA A100" -- simulate --catalog "$(dirname "$0")/../../model/validation/cases.json" --model sc21-gpt-1008b --nodes 384
expect_ok "compute by kernel class" "^compute +stage [0-9]+ \([0-9]+ layers\), one micro-batch, forward \+ backward: GEMMs .* experts .*% of peak\), attention" -- simulate --model deepseek-v3
expect_ok "unfused attention" "recompute" -- simulate --model gpt3-175b --attention-kernel unfused
"$ppsim" schedule --kind dualpipe --ranks 3 --microbatches 12 --format csv --out "$work/refused.csv" 2>/dev/null
if [ -e "$work/refused.csv" ] || ls "$work"/*.tmp-ppsim* >/dev/null 2>&1; then bad "refused request left a file"; else ok; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
