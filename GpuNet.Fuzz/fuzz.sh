#!/usr/bin/env bash
# Coverage-guided fuzzing of GpuNet's readers with AFL++ and SharpFuzz (docs/FUZZING.md).
#
#   GpuNet.Fuzz/fuzz.sh [--seconds N] [--out DIR] [TARGET...]
#
# TARGETs: csv idx gzip safetensors checkpoint (default: all), each fuzzed for N seconds (default 180) from its seed
# corpus in GpuNet.Fuzz/corpus/TARGET. Needs afl-fuzz (Debian: afl++) and the .NET SDK; the SharpFuzz instrumenter
# comes from this folder's tool manifest. Prints one line per target (executions, distinct inputs, paths, crashes,
# hangs) and writes them to DIR/summary.tsv; exits 1 when any target found a crash (an unexpected exception, a badly
# worded error or an allocation over the budget) or a hang (an input running over 10 s), whose inputs are then under
# DIR/TARGET/default/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds=180
out="${TMPDIR:-/tmp}/gpunet-fuzz"
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(csv idx gzip safetensors checkpoint)
command -v afl-fuzz > /dev/null || { echo "fuzz.sh: afl-fuzz not found (apt-get install afl++)" >&2; exit 2; }

rm -rf "$out"
mkdir -p "$out"
bin="$out/bin"
echo "building and instrumenting GpuNet.Core into $bin"
dotnet publish "$here/GpuNet.Fuzz.csproj" -c Release -o "$bin" --nologo -v quiet > "$out/build.log" 2>&1 || { cat "$out/build.log"; exit 2; }
# An instrumented assembly writes to AFL's shared memory, which only exists under afl-fuzz: findings are replayed
# through an uninstrumented copy.
cp -r "$bin" "$out/plain"
(cd "$here" && dotnet tool restore > /dev/null && dotnet tool run sharpfuzz "$bin/GpuNet.Core.dll") > "$out/instrument.log" 2>&1 \
  || { cat "$out/instrument.log"; exit 2; }

# afl-fuzz's own checks that do not apply here: the target is the dotnet host (instrumented through SharpFuzz, not at
# compile time), crashes are exceptions rather than core dumps, and CI machines neither pin CPUs nor set governors.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 \
  AFL_FORKSRV_INIT_TMOUT=60000

printf 'target\tseconds\texecutions\tdistinct_inputs\tpaths\tcrashes\thangs\n' > "$out/summary.tsv"
export GPUNET_FUZZ_DISTINCT="$out/distinct"
mkdir -p "$GPUNET_FUZZ_DISTINCT"
failed=0
for t in "${targets[@]}"; do
  [ -d "$here/corpus/$t" ] || { echo "fuzz.sh: unknown target '$t'" >&2; exit 2; }
  afl-fuzz -V "$seconds" -t 10000 -m none -i "$here/corpus/$t" -o "$out/$t" -- dotnet "$bin/gpunet-fuzz.dll" "$t" \
    > "$out/$t.log" 2>&1 || { tail -20 "$out/$t.log"; echo "fuzz.sh: afl-fuzz failed on $t" >&2; exit 2; }
  stats="$out/$t/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  execs=$(get execs_done) paths=$(get corpus_count) crashes=$(get saved_crashes) hangs=$(get saved_hangs)
  # the largest count of one fuzzing process (to the last hundred): a lower bound on the distinct inputs run
  distinct=$(cat "$GPUNET_FUZZ_DISTINCT/$t"-distinct-* 2>/dev/null | sort -n | tail -1)
  distinct=${distinct:-0}
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$seconds" "$execs" "$distinct" "$paths" "$crashes" "$hangs" >> "$out/summary.tsv"
  echo "$t: $execs executions, at least $distinct distinct inputs, $paths paths, $crashes crashes, $hangs hangs in ${seconds} s"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    failed=1
    for f in "$out/$t"/default/crashes/id* "$out/$t"/default/hangs/id*; do
      [ -e "$f" ] && { dotnet "$out/plain/gpunet-fuzz.dll" "$t" "$f" 2>&1 | head -3 || true; }
    done
  fi
done
exit $failed
