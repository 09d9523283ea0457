#!/usr/bin/env bash
# End-to-end checks of the ppsim command: outputs, round trips through files, and that bad
# input gets exactly one error line and exit code 2 without leaving a partial file behind.
set -u
ppsim=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

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

# expect_error NAME PATTERN -- ARGS: exit 2, nothing on stdout, one stderr line matching PATTERN
expect_error() {
  local name=$1 pattern=$2
  shift 3
  "$ppsim" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if [ $rc -ne 2 ]; then bad "$name: exit $rc, expected 2"; return; fi
  if [ -s "$work/out" ]; then bad "$name: wrote to stdout on error"; return; fi
  if [ "$(wc -l <"$work/err")" -ne 1 ]; then bad "$name: stderr is not one line: $(cat "$work/err")"; return; fi
  if ! grep -qE -- "^ppsim: error: .*$pattern" "$work/err"; then bad "$name: stderr '$(cat "$work/err")' lacks /$pattern/"; return; fi
  ok
}

# The default job and help.
expect_ok "default job lists every kind" "dualpipev +16" --
for kind in gpipe 1f1b interleaved-1f1b zb1p zbv dualpipe; do
  expect_ok "default job: $kind valid" "^$kind .*valid, no deadlock" --
done
expect_ok "default job draws DualPipe" "^rank 7 \| F10b" --
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

# Bad input: one line, exit 2.
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
printf '0F0,0B0,0F1,0B1\n1F1,1B1,1F0,1B0\n' >"$work/deadlock.csv"
expect_error "deadlocked csv" "deadlock.csv: invalid csv schedule: deadlock: a cycle of" -- schedule --from-csv "$work/deadlock.csv"
printf '0F0,0B0\n1F0,1B0,1B1\n' >"$work/missing.csv"
expect_error "incomplete csv" "micro-batch 1 stage 0: 0 forwards" -- schedule --from-csv "$work/missing.csv"
printf '{"kind": "x", "ranks": 2,' >"$work/truncated.json"
expect_error "truncated json" "truncated.json: not valid JSON" -- schedule --from-json "$work/truncated.json"
expect_error "unwritable output" "cannot write '$work/no/such/dir/x.csv'" -- schedule --kind 1f1b --ranks 2 --microbatches 2 --format csv --out "$work/no/such/dir/x.csv"
"$ppsim" schedule --kind dualpipe --ranks 3 --microbatches 12 --format csv --out "$work/refused.csv" 2>/dev/null
if [ -e "$work/refused.csv" ] || ls "$work"/*.tmp-ppsim >/dev/null 2>&1; then bad "refused request left a file"; else ok; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
