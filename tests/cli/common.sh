# Sourced by the CLI test scripts (argument 1: the ppsim binary): a scratch folder, pass/fail
# counts, and expect_error, the contract every refusal keeps.
set -u
ppsim=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect_error NAME PATTERN -- ARGS: exit 2 (within 60 s, so a hang fails), nothing on stdout,
# exactly one stderr line "ppsim: error: ..." matching PATTERN, and neither $work/out.file
# (where refused runs are pointed) nor a temporary file left behind.
expect_error() {
  local name=$1 pattern=$2
  shift 3
  rm -f "$work/out.file"
  # Progress lines (a slow run under a sanitizer) are not part of the error: kept out of this check.
  PPSIM_PROGRESS_EVERY_S=100000 timeout 60 "$ppsim" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  local why=""
  [ $rc -eq 2 ] || why="exit $rc, expected 2"
  [ -z "$why" ] && [ -s "$work/stdout" ] && why="wrote to stdout"
  [ -z "$why" ] && [ "$(wc -l <"$work/stderr")" -ne 1 ] && why="stderr is not one line"
  [ -z "$why" ] && ! grep -qE -- "^ppsim: error: .*$pattern" "$work/stderr" && why="stderr lacks /$pattern/"
  [ -z "$why" ] && [ -e "$work/out.file" ] && why="left an output file"
  [ -z "$why" ] && ls "$work"/*.tmp-ppsim* >/dev/null 2>&1 && why="left a temporary file"
  if [ -z "$why" ]; then ok; else bad "$name: $why: $(head -c 300 "$work/stderr")"; fi
}
