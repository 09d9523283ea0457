#!/usr/bin/env bash
# The catalogue of bad inputs: every one gets exactly one line on stderr naming what is wrong,
# exit code 2, nothing on stdout, and no output file left behind -- never a crash or a hang.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

w=$work
# Files people write by hand.
printf '{"kind": "x", "ranks": 2,' >"$w/truncated.json"
printf '{"kind":"x","ranks":2,"stages":2,"microbatches":2,"placement":[0,1],"per_rank":[[],[]],"colour":1}' >"$w/unknown-key.json"
printf '{"kind":"x","ranks":"2","stages":2,"microbatches":2,"placement":[0,1],"per_rank":[[],[]]}' >"$w/wrong-type.json"
printf '{"kind":"x","ranks":-2,"stages":2,"microbatches":2,"placement":[0,1],"per_rank":[[],[]]}' >"$w/negative.json"
printf '{"kind":"x","ranks":1000000000000000000000000000000,"stages":2,"microbatches":2,"placement":[0,1],"per_rank":[[],[]]}' >"$w/absurd.json"
printf '{"kind":"x","ranks":1,"stages":1,"microbatches":2,"placement":[0],"per_rank":[[{"op":"F","mb":0,"stage":0},{"op":"B","mb":0,"stage":0},{"op":"F","mb":5,"stage":0}]]}' >"$w/bad-mb.json"
printf '0F0,0F0,0B0\n' >"$w/duplicate.csv"
printf '{"kind": "x", "ranks": 99999E00000000000048282467}' >"$w/overflow.json"  # found by fuzzing
printf '0F0,0B0\n1F0,1B0,1B1\n' >"$w/missing.csv"
printf '0F0,0B0,0F1,0B1\n1F1,1B1,1F0,1B0\n' >"$w/cycle.csv"
printf '0F0,0Q1\n' >"$w/bad-cell.csv"
printf '0F0,0B0\n' >"$w/ok.csv"
printf '{"default": {"F": 1, "B": 2, "Fb": 3}}' >"$w/costs-key.json"
printf '{"default": {"F": "fast", "B": 2}}' >"$w/costs-type.json"
printf '{"default": {"F": 1, "B": 2, "W": 5}}' >"$w/costs-w.json"
printf '{"default": {"F": 0, "B": 2}}' >"$w/costs-zero.json"
printf '{"default": {"F": 1e30, "B": 2}}' >"$w/costs-huge.json"
printf '{"default": {"F": 1, "B": 2}, "stages": [{}, {}]}' >"$w/costs-stages.json"
printf '{"gpus": {"x": {"bf16_tflops": -1}}}' >"$w/catalog-neg.json"
printf '{"models": {"m": {"layers": 0, "hidden": 8, "heads": 1, "ffn": 8, "vocab": 8, "seq_len": 8}}}' >"$w/catalog-zero.json"
printf '{"traceEvents": [{"ph": "X", "pid": 0, "tid": 0, "dur": 1}]}' >"$w/trace-missing.json"
printf '{"traceEvents": [{"ph": "X", "pid": 0, "tid": 0, "ts' >"$w/trace-truncated.json"
printf '{"traceEvents": []}' >"$w/trace-empty.json"
printf '{"traceEvents": [{"ph": "X", "pid": 0, "tid": 0, "ts": -5, "dur": 1, "args": {"op": "F", "mb": 0, "stage": 0}}]}' >"$w/trace-negative.json"
head -c $((300 * 1024 * 1024)) /dev/zero 2>/dev/null | tr '\0' ' ' >"$w/huge.json"

# The CLI's own flags.
expect_error "unknown command" "unknown command 'simulat' \(did you mean 'simulate'\?\)" -- simulat
expect_error "unknown flag" "unknown flag '--rank' \(did you mean '--ranks'\?\)" -- schedule --kind 1f1b --rank 4
expect_error "missing value" "--microbatches needs a value" -- schedule --kind 1f1b --microbatches
expect_error "flag twice" "--ranks given twice" -- schedule --kind 1f1b --ranks 2 --ranks 3
expect_error "calibrate without a trace" "give --from-kineto TRACE.json" -- calibrate
printf '{"traceEvents": [{"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 1, "dur": 2}]}' >"$work/cpu-only.json"
expect_error "calibrate: no kernels" "no GPU kernel in the trace" -- calibrate --from-kineto "$work/cpu-only.json"
printf '{"traceEvents": [{"ph": "X", "cat": "kernel", "name": "gemm", "pid": 0, "ts": 1, "dur": 2}]}' >"$work/no-ops.json"
expect_error "calibrate: no ops for a cost table" "stage 0 \\(device 0\\): the trace marks no forward op" -- calibrate --from-kineto "$work/no-ops.json" --costs-out "$work/out.file"
printf '{"kernels": [{"phase": "gemms", "pattern": "x"}]}' >"$work/rules.json"
expect_error "calibrate: a bad rule" "rules.kernels\\[0\\].phase = 'gemms' \\(did you mean 'gemm'\\?\\)" -- calibrate --from-kineto "$work/no-ops.json" --rules "$work/rules.json"
expect_error "bandwidth without a unit" "--p2p-bandwidth = '50' has no unit; write 50GB/s for bytes or 50Gb/s for bits" -- simulate --kind 1f1b --p2p-bandwidth 50
expect_error "bandwidth unknown unit" "--inter-bandwidth = '50GB': unknown unit 'GB'" -- simulate --model deepseek-v3 --inter-bandwidth 50GB
expect_error "bandwidth new and old name" "give --p2p-bandwidth or its old name --p2p-bandwidth-gbps, not both" -- simulate --kind 1f1b --p2p-bandwidth 5GB/s --p2p-bandwidth-gbps 5
expect_error "unknown kind" "kind 'pipedream' is not a schedule" -- schedule --kind pipedream
expect_error "zero ranks" "--ranks = 0 is out of range" -- schedule --kind 1f1b --ranks 0
expect_error "negative micro-batches" "--microbatches = -3 is out of range" -- schedule --kind gpipe --microbatches -3
expect_error "absurd ranks" "--ranks = 1e30 is out of range|--ranks = '1e30' is not an integer" -- schedule --kind 1f1b --ranks 1e30
expect_error "huge integer" "is out of range" -- simulate --model deepseek-v3 --nodes 99999999999999999999
expect_error "1e30 nodes" "--nodes = '1e30' is not an integer; allowed: an integer in 1..524288" -- simulate --model deepseek-v3 --nodes 1e30
expect_error "1e30 GPUs in a sweep" "--gpu-counts = '512-1e30': allowed LOW-HIGH" -- size --model deepseek-v3 --gpu-counts 512-1e30
expect_error "dualpipe odd ranks" "dualpipe needs an even number of ranks" -- schedule --kind dualpipe --ranks 5 --microbatches 20
expect_error "too few micro-batches" "interleaved-1f1b-megatron needs ranks <= micro-batch group <= microbatches" -- schedule --kind interleaved-1f1b-megatron --ranks 8 --microbatches 4
expect_error "fixed stages per rank" "is not allowed for zbv" -- schedule --kind zbv --stages-per-rank 3
expect_error "bad format" "--format = 'xml' is not allowed" -- schedule --kind 1f1b --format xml
expect_error "NaN cost" "--unit-costs F = 'nan' is not a number" -- simulate --kind 1f1b --unit-costs F=nan,B=2
expect_error "inf cost" "--unit-costs B = 'inf' is not a number" -- simulate --kind 1f1b --unit-costs F=1,B=inf
expect_error "negative latency" "--p2p-latency-us = '-1' is not a number" -- simulate --kind 1f1b --p2p-latency-us -1
expect_error "inf price" "--price-per-gpu-hour = 'inf'" -- simulate --model deepseek-v3 --price-per-gpu-hour inf
expect_error "NaN efficiency" "efficiency gemm = 'nan' is not a number" -- simulate --model deepseek-v3 --efficiency gemm=nan
expect_error "absurd GPUs" "nodes = |is out of range" -- simulate --model deepseek-v3 --nodes 1000000000
expect_error "GPUs != TP x PP x DP" "is not TP x CP x PP x DP" -- simulate --model deepseek-v3 --pp 12
expect_error "layers do not split" "neither 62 nor 64" -- simulate --model deepseek-v3 --pp 128 --ep 16
expect_error "EP not dividing experts" "ep = 48 does not divide the 256 routed experts" -- simulate --model deepseek-v3 --ep 48
expect_error "TP across nodes" "spans more than one NVLink domain" -- simulate --model llama3-70b --tp 16 --pp 2
expect_error "CP not splitting the sequence" "cp = 3 does not split the sequence of 8192 tokens" -- simulate --model llama3-8b --cp 3 --pp 1 --tp 1 --nodes 96
expect_error "ETP x EP not dividing the ranks" "etp x ep = 8 x 64 = 512 does not divide TP x CP x DP = 128" -- simulate --model deepseek-v3 --etp 8
expect_error "ETP without experts" "has no experts" -- simulate --model llama3-8b --etp 2
expect_error "SP without TP" "sp: sequence parallelism" -- simulate --model llama3-8b --sp
expect_error "stage layers not adding up" "leave -71 for the other 2 stages" -- simulate --model llama3-8b --first-stage-layers 3 --last-stage-layers 100
expect_error "stage layers that do not divide" "leave 27 for the other 2 stages" -- simulate --model llama3-8b --first-stage-layers 3 --last-stage-layers 2
expect_error "unknown recompute module" "'attn' is not a module" -- simulate --model llama3-8b --recompute-modules attn
expect_error "MLA recompute without MLA" "mla_up_proj: llama3-8b has no MLA" -- simulate --model llama3-8b --recompute-modules mla_up_proj
expect_error "too many recomputed layers" "recompute-layers = 40: the fullest stage holds 8" -- simulate --model llama3-8b --recompute-layers 40
expect_error "overlapped reduce under ZeRO-3" "overlap-grad-reduce: ZeRO-3" -- simulate --model llama3-8b --zero 3 --overlap-grad-reduce
expect_error "NVLink domain not whole nodes" "nvlink-domain = 12: must be a multiple of the 8 GPUs per node" -- simulate --model llama3-8b --nvlink-domain 12
expect_error "absurd sequence" "seq-len" -- simulate --model llama3-8b --seq-len 0
expect_error "unknown model" "model 'gpt5' is not in the catalog" -- simulate --model gpt5
expect_error "unknown cluster" "cluster 'h800-9999' is not in the catalog" -- simulate --model deepseek-v3 --cluster h800-9999
expect_error "bad tokens" "tokens = 'lots' is not a token count" -- simulate --model deepseek-v3 --tokens lots
# Files.
expect_error "truncated schedule JSON" "truncated.json: not valid JSON" -- schedule --from-json "$w/truncated.json"
expect_error "unknown key in a schedule" "unknown key 'colour'" -- schedule --from-json "$w/unknown-key.json"
expect_error "wrong type in a schedule" "schedule.ranks: expected an integer, got string" -- schedule --from-json "$w/wrong-type.json"
expect_error "negative ranks in a schedule" "schedule.ranks: -2 is out of range" -- schedule --from-json "$w/negative.json"
expect_error "absurd ranks in a schedule" "schedule.ranks: expected an integer|out of range" -- schedule --from-json "$w/absurd.json"
expect_error "a number too large to hold" "overflow.json: not valid JSON" -- schedule --from-json "$w/overflow.json"
expect_error "wrong micro-batch id" "per_rank\[0\]\[2\].mb: 5 is out of range" -- schedule --from-json "$w/bad-mb.json"
expect_error "duplicated op" "2 forwards \(F\), expected exactly 1" -- schedule --from-csv "$w/duplicate.csv"
expect_error "missing op" "0 forwards \(F\), expected exactly 1" -- schedule --from-csv "$w/missing.csv"
expect_error "cycle" "deadlock: a cycle of" -- simulate --from-csv "$w/cycle.csv"
expect_error "bad CSV cell" "csv row 1 \(rank 0\) column 2: '0Q1'" -- schedule --from-csv "$w/bad-cell.csv"
expect_error "a path through a file" "cannot read .*ok.csv/inside.csv': no such file" -- schedule --from-csv "$w/ok.csv/inside.csv"
expect_error "missing file" "no such file" -- schedule --from-csv "$w/nope.csv"
expect_error "a folder for a file" "not a regular file" -- schedule --from-csv "$w"
expect_error "huge file" "inputs are limited to" -- schedule --from-json "$w/huge.json"
expect_error "cost key" "unknown key 'Fb' \(did you mean 'FB'\?\)" -- simulate --from-csv "$w/ok.csv" --costs "$w/costs-key.json"
expect_error "cost type" "costs.default.F = 'fast' is not a number" -- simulate --from-csv "$w/ok.csv" --costs "$w/costs-type.json"
expect_error "cost W >= B" "W = 5 must be >= 0 and < B = 2" -- simulate --from-csv "$w/ok.csv" --costs "$w/costs-w.json"
expect_error "zero cost" "F = 0 must be > 0" -- simulate --from-csv "$w/ok.csv" --costs "$w/costs-zero.json"
expect_error "absurd cost" "costs.default.F: 1e\+30 is out of range" -- simulate --from-csv "$w/ok.csv" --costs "$w/costs-huge.json"
expect_error "costs for other stages" "costs describe 2 stages but the schedule has 1" -- simulate --from-csv "$w/ok.csv" --costs "$w/costs-stages.json"
expect_error "negative figure in a catalog" "gpus.x.bf16_tflops = -1 is out of range" -- catalog --catalog "$w/catalog-neg.json"
expect_error "zero layers in a catalog" "models.m.layers = 0 is out of range" -- catalog --catalog "$w/catalog-zero.json"
expect_error "trace without ts" "traceEvents\[0\]: missing 'ts'" -- trace --summary "$w/trace-missing.json"
expect_error "truncated trace" "trace-truncated.json: not valid JSON" -- trace --summary "$w/trace-truncated.json"
expect_error "empty trace" "the trace holds no op" -- trace --summary "$w/trace-empty.json"
expect_error "negative time in a trace" "'ts' = -5: expected a non-negative time" -- trace --summary "$w/trace-negative.json"
expect_error "huge trace" "inputs are limited to" -- trace --summary "$w/huge.json"
# Outputs: a refused run writes nothing, and an unwritable place is named.
expect_error "refused run leaves no file" "dualpipe needs an even number of ranks" -- schedule --kind dualpipe --ranks 3 --microbatches 12 --format csv --out "$w/out.file"
expect_error "unwritable output" "--out '$w/none/x.json': its folder '$w/none' does not exist" -- schedule --kind 1f1b --ranks 2 --microbatches 2 --format json --out "$w/none/x.json"
expect_error "size without a model" "--model is required" -- size
expect_error "bad shard" "--shard = 'half': allowed i/n" -- size --model deepseek-v3 --shard half
expect_error "merge of a bad file" "not a ppsim size JSON output" -- size --merge "$w/ok.csv"
# The runtime's flags.
expect_error "cuda flag on the cpu backend" "--comm-sms: only with --backend cuda" -- validate --kind 1f1b --ranks 2 --microbatches 2 --comm-sms 4
expect_error "cuda in double" "--precision double: the cuda backend runs float only" -- validate --backend cuda --precision double --kind 1f1b --ranks 2 --microbatches 2
expect_error "bad cuda mode" "--mode = 'mpi' is not allowed; allowed: single-gpu, nccl" -- validate --backend cuda --mode mpi --kind 1f1b --ranks 2 --microbatches 2
expect_error "bad sm partition" "--sm-partition = 'half' is not allowed" -- validate --backend cuda --sm-partition half --kind 1f1b --ranks 2 --microbatches 2
expect_error "negative comm sms" "--comm-sms = -1 is out of range; allowed: an integer in 0..1024" -- validate --backend cuda --comm-sms -1 --kind 1f1b --ranks 2 --microbatches 2
expect_error "top-k above the experts" "--top-k = 3 is out of range; allowed: an integer in 1..2" -- validate --kind 1f1b --ranks 2 --microbatches 2 --experts 2 --top-k 3
expect_error "validate format" "--format = 'yaml' is not allowed; allowed: text, json" -- validate --kind 1f1b --ranks 2 --microbatches 2 --format yaml
expect_error "model-sized stage on the cpu" "--model: only with --backend cuda" -- validate --model deepseek-v3 --kind 1f1b --ranks 2 --microbatches 2
expect_error "model and width together" "--hidden: not with --model" -- validate --backend cuda --model deepseek-v3 --hidden 64 --kind 1f1b --ranks 2 --microbatches 2
expect_error "op budget without a model" "--max-op-gflop: only with --model" -- validate --backend cuda --max-op-gflop 10 --kind 1f1b --ranks 2 --microbatches 2
expect_error "op budget not a number" "--max-op-gflop = '1e2x' is not a number; allowed: a number in 0.001..1e\\+06" -- validate --backend cuda --model deepseek-v3 --max-op-gflop 1e2x --kind 1f1b --ranks 2 --microbatches 2
expect_error "op budget out of range" "--max-op-gflop = '0' is out of range" -- validate --backend cuda --model deepseek-v3 --max-op-gflop 0 --kind 1f1b --ranks 2 --microbatches 2
expect_error "gpu reference on the cpu" "--reference gpu: only with --backend cuda" -- validate --reference gpu --kind 1f1b --ranks 2 --microbatches 2
expect_error "bad reference" "--reference = 'both' is not allowed; allowed: auto, cpu, gpu" -- validate --reference both --kind 1f1b --ranks 2 --microbatches 2
expect_error "unknown model for validate" "model 'gpt-9' is not in the catalog: known models: deepseek-v3" -- validate --backend cuda --model gpt-9 --kind 1f1b --ranks 2 --microbatches 2

expect_error "size tp options" "--tp-options: '0' is not an integer in 1..4096" -- size --model deepseek-v3 --tp-options 0,1
# Values nested 200,000 levels deep (400 KB of brackets): refused with one line, never a crash.
deep=$(head -c 200000 /dev/zero | tr '\0' '[')$(head -c 200000 /dev/zero | tr '\0' ']')
printf '{"kind": %s}' "$deep" >"$w/deep-schedule.json"
printf '{"gpus": {"x": {"name": %s}}}' "$deep" >"$w/deep-catalog.json"
printf '{"traceEvents": [{"ph": %s}]}' "$deep" >"$w/deep-trace.json"
printf '{"default": %s}' "$deep" >"$w/deep-costs.json"
expect_error "deep schedule JSON" "nested more than 256 levels deep at byte 264: allowed at most 256" -- schedule --from-json "$w/deep-schedule.json"
expect_error "deep catalog JSON" "deep-catalog.json: nested more than 256 levels deep" -- catalog --catalog "$w/deep-catalog.json"
expect_error "deep trace JSON" "deep-trace.json: nested more than 256 levels deep" -- trace --summary "$w/deep-trace.json"
expect_error "deep costs JSON" "deep-costs.json: nested more than 256 levels deep" -- simulate --kind 1f1b --ranks 2 --microbatches 2 --costs "$w/deep-costs.json"
expect_error "deep size part" "deep-schedule.json: not a ppsim size JSON output: nested more than 256 levels" -- size --merge "$w/deep-schedule.json"
expect_error "output is a folder" "--out '$w': it is a folder; allowed: a file path" -- schedule --kind 1f1b --ranks 2 --microbatches 2 --format csv --out "$w"
# Outputs are checked before the work starts: a missing folder, an input, two outputs at one path.
"$ppsim" schedule --kind 1f1b --ranks 2 --microbatches 4 --format json --out "$w/in.json" 2>/dev/null
expect_error "output folder missing" "--out '$w/missing/x.json': its folder '$w/missing' does not exist" -- size --model deepseek-v3 --gpus h800,h100 --out "$w/missing/x.json"
expect_error "output over its input" "--out '$w/in.json' is also an input \\(--from-json\\): refusing to overwrite it" -- schedule --from-json "$w/in.json" --format json --out "$w/in.json"
expect_error "output over an input, another name" "is also an input \\(--from-json\\)" -- schedule --from-json "$w/in.json" --format json --out "$w/./in.json"
expect_error "output over a merge part" "is also an input \\(--merge\\)" -- size --merge "$w/in.json,$w/other.json" --out "$w/in.json"
expect_error "two outputs at one path" "--svg '$w/t.json' is also --trace's output" -- simulate --kind 1f1b --trace "$w/t.json" --svg "$w/t.json"
expect_error "a trace into a missing folder" "--svg '$w/missing/p.svg': its folder" -- simulate --kind 1f1b --trace "$w/t.json" --svg "$w/missing/p.svg"
[ ! -e "$w/t.json" ] && ok || bad "a refused simulate left its --trace behind"
# Bounded work: estimated from the inputs before anything is allocated, refused in one line
# naming what is too big and the --work-limit that would allow it.
{
  printf '{"schema_version": 1, "kind": "custom", "ranks": 256, "stages": 256, "microbatches": 1048576, "placement": ['
  for r in $(seq 0 255); do printf '%s%d' "$([ "$r" -gt 0 ] && echo ,)" "$r"; done
  printf '], "per_rank": ['
  for r in $(seq 0 255); do printf '%s[{"mb": 1048575, "op": "F", "stage": %d}]' "$([ "$r" -gt 0 ] && echo ,)" "$r"; done
  printf ']}\n'
} >"$w/declared-huge.json"
for r in $(seq 0 255); do echo "${r}F1048575"; done >"$w/declared-huge.csv"
expect_error "a small JSON declaring a million micro-batches" "1048576 micro-batches x 256 stages need at least 536870912 op halves" -- schedule --from-json "$w/declared-huge.json"
expect_error "a small CSV naming micro-batch 1048575" "1048576 micro-batches x 256 stages need at least" -- simulate --from-csv "$w/declared-huge.csv"
expect_error "ops under the old cap" "ops = about 200M ops; allowed at most 30M ops on this machine class \\(raise with --work-limit 6.7\\)" -- schedule --kind 1f1b --ranks 4096 --microbatches 16276
expect_error "compare over every kind" "--ranks 2048 x --microbatches 32000 over 12 kinds: ops = about 3.93G ops" -- compare --ranks 2048 --microbatches 32000
expect_error "a lowered work limit" "over 12 kinds: ops = about 126M ops; allowed at most 90M ops" -- compare --ranks 512 --microbatches 4096 --work-limit 0.5
expect_error "validate: a thread per rank" "--ranks 1024: threads = about 1024 threads; allowed at most 512 threads" -- validate --kind gpipe --ranks 1024 --microbatches 8
expect_error "validate: width 4096 on 8 ranks" "width 4096, 64 rows: memory = about 25 GiB; allowed at most 24 GiB" -- validate --kind 1f1b --ranks 8 --microbatches 16 --hidden 4096
expect_error "held-out: hours of arithmetic" "arithmetic = about 79.2T FLOP; allowed at most 2T FLOP" -- validate --held-out --ranks 4 --microbatches 16 --hidden 2048 --rows 256
expect_error "size: 10000 comm-SM budgets" "10000 comm-SM budgets x 1 chunk counts x the kinds\\): plans = about 173M plans" -- size --model deepseek-v3 --gpus h800 --comm-sms-options "$(seq -s, 1 10000)"
expect_error "size: the largest plan on many threads" "the largest plan \\(2.95M ops: few GPUs, many micro-batches\\) on 64 threads: memory" -- size --model deepseek-v3 --gpus h800 --gpu-counts 1-1048576 --threads 64
expect_error "a global batch of 64M sequences" "ops = about 50.3M ops.*global batch / \\(DP x micro-batch size\\) = 67108864" -- simulate --model deepseek-v3 --global-batch 67108864
expect_error "work limit zero" "--work-limit = '0': allowed a factor in \\(0, 1e6\\]" -- schedule --kind 1f1b --work-limit 0
expect_error "work limit not a number" "--work-limit = '2x'" -- schedule --kind 1f1b --work-limit 2x
expect_error "work limit without a value" "--work-limit needs a value" -- schedule --kind 1f1b --work-limit
expect_error "work limit twice" "--work-limit given twice; allowed once" -- schedule --kind 1f1b --work-limit 2 --work-limit=3
expect_error "work limit joined" "--work-limit = '-1': allowed a factor" -- schedule --kind 1f1b --work-limit=-1
# Schedule search.
expect_error "search: unit flags with a model" "--ranks: not with --model" -- search --model deepseek-v3 --ranks 4
expect_error "search: hand-offs with a model" "--p2p-latency-us: not with --model" -- search --model deepseek-v3 --p2p-latency-us 1
expect_error "search: too many moves" "--evaluations 10000000 x .* ops: ops simulated = about" -- search --ranks 64 --microbatches 512 --evaluations 10000000
expect_error "search: GiB without a model" "--memory-limit: only with --model" -- search --ranks 4 --microbatches 8 --memory-limit 40
expect_error "search: nothing fits" "search: no known schedule fits the memory limit, and [0-9]+ moves from [a-z0-9]+ found none that does" -- search --ranks 4 --microbatches 8 --max-in-flight 1 --evaluations 300
expect_error "search: an unknown start" "--from: " -- search --ranks 4 --microbatches 8 --from 1f1b,zb9
expect_error "search: output over itself" "--csv '$w/s.json' is also --out's output" -- search --ranks 4 --microbatches 8 --out "$w/s.json" --csv "$w/s.json"
# Held-out runs.
expect_error "fit kind without held-out" "--fit-kind: only with --held-out" -- validate --kind 1f1b --ranks 2 --microbatches 2 --fit-kind 1f1b
expect_error "held-out with a kind" "--held-out runs every kind itself: --kind does not apply" -- validate --held-out --kind 1f1b --ranks 2 --microbatches 2
expect_error "held-out fit kind not runnable" "--fit-kind dualpipe: not runnable on 3 ranks" -- validate --held-out --fit-kind dualpipe --ranks 3 --microbatches 6
expect_error "held-out on a launcher" "--held-out: runs on CPU threads only" -- validate --held-out --launcher mpi --ranks 2 --microbatches 2
# The compute model's and the validation table's flags.
expect_error "kernels without m" "--m is required" -- kernels --gpu h100
expect_error "kernels zero rows" "--m: '0' is not an integer in 1..1048576" -- kernels --m 0
expect_error "kernels bad list" "--n: 'x' is not an integer" -- kernels --m 64 --n 64,x
expect_error "kernels fp8 on a100" "a100 has no FP8 peak" -- kernels --gpu a100 --precision fp8 --m 64
expect_error "kernels unknown gpu" "gpu 'h900'" -- kernels --gpu h900 --m 64
expect_error "kernels too many shapes" "shapes: allowed at most 100000" -- kernels --m $(seq -s, 1 100) --n $(seq -s, 1 100) --k $(seq -s, 1 11)
expect_error "accuracy format" "--format = 'csv' is not allowed" -- accuracy --format csv
expect_error "accuracy bad efficiency" "efficiency in_training = 2: allowed" -- accuracy --efficiency in_training=2
expect_error "bad attention kernel" "attention-kernel = 'fast': allowed flash, unfused" -- simulate --model llama3-8b --attention-kernel fast
cat >"$w/bad-kernels.json" <<'JSON'
{"gpus": {"x1": {"name": "X1", "bf16_tflops": 100, "hbm_gib": 80, "hbm_tbps": 2, "sms": 100, "scale_up_gbps": 100, "nic_gbps": 25, "tdp_w": 300, "price_per_hour": 1,
 "kernels": {"gemm_bf16": 1.5, "hbm": 0.8, "tile": {"m": 128, "n": 128}, "attention": {"128": {"forward": 0.5, "backward": 0.4}}}}}}
JSON
expect_error "kernel figure out of range" "gpus.x1.kernels.gemm_bf16 = 1.5 is out of range" -- catalog --catalog "$w/bad-kernels.json"
# size --merge checks its parts: one sweep, each shard once, every field in range.
sweep=(size --model llama3-8b --gpus h100 --gpu-counts 64-128 --kinds 1f1b --overlap simple --network simple --format json)
for i in 0 1 2; do "$ppsim" "${sweep[@]}" --shard "$i/3" --out "$w/part-$i.json" 2>/dev/null; done
"$ppsim" size --model llama3-8b --gpus h100 --gpu-counts 64-128 --kinds gpipe --overlap simple --network simple --format json --shard 2/3 --out "$w/other-2.json" 2>/dev/null
"$ppsim" size --model llama3-70b --gpus h100 --gpu-counts 64-128 --kinds 1f1b --overlap simple --network simple --format json --shard 2/3 --out "$w/model-2.json" 2>/dev/null
python3 - "$w" <<'PY'
import json, sys
w = sys.argv[1]
d = json.load(open(f"{w}/part-0.json"))
neg = dict(d, configurations=-5); json.dump(neg, open(f"{w}/neg-0.json", "w"))
big = dict(d, simulated=10**30); json.dump(big, open(f"{w}/big-0.json", "w"))
old = dict(d); del old["sweep"]; json.dump(old, open(f"{w}/old-0.json", "w"))
ver = json.loads(json.dumps(d)); ver["sweep"]["version"] = "0.0.9"; json.dump(ver, open(f"{w}/ver-0.json", "w"))
cat = json.loads(json.dumps(d)); cat["sweep"]["catalog"] = "0123456789abcdef"; json.dump(cat, open(f"{w}/cat-0.json", "w"))
n4 = json.loads(json.dumps(d)); n4["sweep"]["shards"] = 4; json.dump(n4, open(f"{w}/n4-0.json", "w"))
row = json.loads(json.dumps(d)); row["evaluated"][0]["mfu"] = 7; json.dump(row, open(f"{w}/row-0.json", "w"))
PY
expect_error "merge: a missing shard" "--merge: shard 2/3 is missing \\(2 of 3 given\\)" -- size --merge "$w/part-0.json,$w/part-1.json"
expect_error "merge: a shard twice" "part-1.json: shard 1/3 given twice \\(also .*part-1.json\\)" -- size --merge "$w/part-0.json,$w/part-1.json,$w/part-1.json,$w/part-2.json"
expect_error "merge: another sweep's flags" "other-2.json: not the same sweep as .*part-0.json \\(its flags differ" -- size --merge "$w/part-0.json,$w/part-1.json,$w/other-2.json"
expect_error "merge: another model" "model-2.json: not the same sweep as .*part-0.json \\(its model differs" -- size --merge "$w/part-0.json,$w/part-1.json,$w/model-2.json"
expect_error "merge: another ppsim" "ver-0.json: not the same sweep as .*part-1.json \\(its version differs" -- size --merge "$w/part-1.json,$w/ver-0.json,$w/part-2.json"
expect_error "merge: another catalogue" "cat-0.json: not the same sweep as .*part-1.json \\(its catalog differs" -- size --merge "$w/part-1.json,$w/cat-0.json,$w/part-2.json"
expect_error "merge: another shard count" "n4-0.json: not the same sweep as .*part-1.json \\(its shards differ" -- size --merge "$w/part-1.json,$w/n4-0.json,$w/part-2.json"
expect_error "merge: a negative count" "neg-0.json.configurations = -5: allowed an integer in 0.." -- size --merge "$w/neg-0.json,$w/part-1.json,$w/part-2.json"
expect_error "merge: an overflowing count" "big-0.json.simulated = 1e\\+30: allowed an integer" -- size --merge "$w/big-0.json,$w/part-1.json,$w/part-2.json"
expect_error "merge: a field out of range" "row-0.json.evaluated\\[0\\].mfu = 7: allowed a number in 0" -- size --merge "$w/row-0.json,$w/part-1.json,$w/part-2.json"
expect_error "merge: a part without its sweep" "old-0.json: no 'sweep'" -- size --merge "$w/old-0.json,$w/part-1.json,$w/part-2.json"
expect_error "merge with sweep flags" "--merge takes the sweep its parts carry: --gpus does not apply" -- size --merge "$w/part-0.json" --gpus h100
expect_error "shard with trailing garbage" "--shard = '1/2abc': allowed i/n with 0 <= i < n" -- size --model deepseek-v3 --shard 1/2abc
expect_error "shard past the count" "--shard = '3/3': allowed i/n with 0 <= i < n" -- size --model deepseek-v3 --shard 3/3
# Messages: one line always, strict numbers, repeated keys, empty lists, help of nothing.
expect_error "newline in a value" "--kind '1f1b\\\\nx' is not a schedule" -- simulate --kind "$(printf '1f1b\nx')"
expect_error "tab in a value" "unknown flag '--ra\\\\tnks'" -- simulate --kind 1f1b "$(printf -- '--ra\tnks')" 4
expect_error "help of nothing" "ppsim help bogus: no such command" -- help bogus
expect_error "empty gpu list" "--gpus = '' names nothing" -- size --model deepseek-v3 --gpus ''
expect_error "comma gpu list" "--gpus = ',' names nothing" -- size --model deepseek-v3 --gpus ,
expect_error "empty kinds list" "--kinds = ',,' names nothing" -- size --model deepseek-v3 --kinds ,,
expect_error "unit costs key twice" "--unit-costs F given twice" -- simulate --kind 1f1b --unit-costs F=1,B=2,F=3
expect_error "efficiency key twice" "efficiency gemm given twice" -- simulate --model deepseek-v3 --efficiency gemm=0.5,gemm=0.6
printf '{"kind": "1f1b", "kind": "gpipe"}' >"$w/dup-key.json"
expect_error "JSON key twice" "dup-key.json: key 'kind' given twice in one object" -- schedule --from-json "$w/dup-key.json"
printf '{"default": {"F": 1, "B": 2, "F": 3}}' >"$w/dup-costs.json"
expect_error "JSON key twice in costs" "dup-costs.json: key 'F' given twice" -- simulate --kind 1f1b --costs "$w/dup-costs.json"
expect_error "hex token count" "tokens = '0x10T' has unit 'x10T'" -- simulate --model deepseek-v3 --tokens 0x10T
expect_error "hex price" "--price-per-gpu-hour = '0x10': allowed a number" -- simulate --model deepseek-v3 --price-per-gpu-hour 0x10
expect_error "inf oversubscription" "--oversubscription = 'inf' is not a number" -- simulate --model deepseek-v3 --oversubscription inf
expect_error "max-days with garbage" "--max-days = '3abc': allowed a number" -- size --model deepseek-v3 --max-days 3abc
expect_error "hex bandwidth" "--p2p-bandwidth = '0x10GB/s': unknown unit 'x10GB/s'" -- simulate --kind 1f1b --p2p-bandwidth 0x10GB/s
# Physical ranges: nothing near zero that would make a step faster or a run last "inf days".
expect_error "tiny efficiency" "efficiency gemm = 1e-300: allowed 0.01..1" -- simulate --model deepseek-v3 --efficiency gemm=1e-300
expect_error "tiny network efficiency" "efficiency network = 0.001: allowed 0.01..1" -- simulate --model deepseek-v3 --efficiency network=0.001
expect_error "tiny bandwidth" "--inter-bandwidth = '1e-300GB/s' is out of range: at least 1 MB/s" -- simulate --model deepseek-v3 --inter-bandwidth 1e-300GB/s
expect_error "tiny old-name bandwidth" "--p2p-bandwidth-gbps = '1e-300' is out of range: at least 1 MB/s" -- simulate --kind 1f1b --p2p-bandwidth-gbps 1e-300
expect_error "tiny token count" "tokens = '1e-300' is out of range: allowed 1 to 1e16 tokens" -- simulate --model deepseek-v3 --tokens 1e-300
# Arithmetic that cannot wrap.
printf '{"default": {"F": 1, "B": 2, "p2p_bytes": 18446744073709551615}}' >"$w/bytes-2-64.json"
expect_error "bytes 2^64-1" "p2p_bytes: expected an integer number of bytes in 0..2\\^50 \\(1 PB\\), got 18446744073709551615" -- simulate --kind 1f1b --costs "$w/bytes-2-64.json"
printf '{"default": {"F": 1, "B": 2, "p2p_bytes": 9223372036854775000}}' >"$w/bytes-2-63.json"
expect_error "bytes near 2^63" "p2p_bytes: expected an integer number of bytes in 0..2\\^50" -- simulate --kind 1f1b --costs "$w/bytes-2-63.json"
printf '{"default": {"F": 4611686018427387, "B": 4611686018427387}}' >"$w/costs-2-62.json"
expect_error "costs near 2^62 ns" "the simulated step runs past 146 years" -- simulate --kind 1f1b --ranks 4 --microbatches 8 --costs "$w/costs-2-62.json"
printf '{"kind": "1f1b", "ranks": 18446744073709551615, "stages": 2, "microbatches": 2, "placement": [0, 1], "per_rank": []}' >"$w/ranks-2-64.json"
expect_error "2^64-1 ranks" "schedule.ranks: 18446744073709551615 is out of range: allowed 1..4096" -- schedule --from-json "$w/ranks-2-64.json"
printf '{"traceEvents": [{"ph": "X", "pid": 0, "tid": 0, "ts": 4611686018427387, "dur": 4611686018427387, "name": "F mb0 s0", "args": {"op": "F", "mb": 0, "stage": 0}}]}' >"$w/trace-max.json"
expect_error "trace ends past 2^62 ns" "'ts' \\+ 'dur' ends past 146 years" -- trace --summary "$w/trace-max.json"
# CSV: a byte order mark is skipped and blank lines at the end are not ranks.
printf '\xef\xbb\xbf0F0,0B0\n\n\n' >"$w/bom.csv"
if "$ppsim" schedule --from-csv "$w/bom.csv" --format json 2>/dev/null | grep -q '"ranks": 1'; then ok; else bad "CSV with a BOM and blank lines: expected 1 rank"; fi
# A deadline passed on the cpu backend: one line, exit 2 (as on cuda).
expect_error "cpu deadline" "--backend cpu: rank .* deadline passed" -- validate --kind gpipe --ranks 4 --microbatches 8 --timeout-ms 1 --hidden 1024 --rows 512
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -ge 130 ]
