#!/usr/bin/env bash
# A GPU day in one script: a lent GPU machine has no .NET SDK and a few minutes, so everything is built here, carried
# there as .gpu/, and run in one call that loses nothing it measured if the device faults.
#
#   GpuNet.Bench/gpu-run.sh pack              here, from the repository: .gpu/ gets a self-contained linux-x64
#                                             GpuNet.Bench, this script and the PyTorch scripts (~27 MiB)
#   bash .gpu/gpu-run.sh run OUT [DEVICE]     there, from the repository root: every section below, all files under OUT;
#                                             DEVICE is cuda (default), or cpu for a dry run on a machine without a GPU
#
# Sections, in order, each under its own timeout and the whole run under a 470-second deadline (8 minutes with margin):
#   smoke     ≤ 45 s   open the device, one GEMM, synchronise, check (smoke.json); a failure stops the run with the error
#   checks    ≤ 60 s   every kernel against float64 on the device (checks.json)
#   autotune  ≤ 90 s   the GEMM autotune into a fresh cache the report then reads (autotune.json, gemm-tuning.json)
#   report    ≤ 150 s  the device report: checks, then timings (gpunet.json)
#   restarts  ≤ 40 s   10^6 restarts of the seed network × 1000 steps, per-restart kernel and fused step (restarts.json;
#                      1000 restarts on the CPU accelerator)
#   torch     ≤ 100 s  PyTorch eager and CUDA graphs on the same cases (torch.json); without PyTorch, skipped with why
#   compile   ≤ 50 s   torch.compile, last because it is optional and slow to compile (torch-compile.json)
#   ratios             GpuNet / PyTorch per case (ratios.md), printed last
# All output is tee'd to OUT/run.log; OUT/sections.json is rewritten as each section ends (status, exit code, seconds),
# and the report rewrites gpunet.json after every case. GPU_RUN_TIME_SCALE (default 1) multiplies every budget and the
# deadline, for a dry run on a slow or shared machine.
set -uo pipefail

pack() {
  local root out
  root=$(git rev-parse --show-toplevel) || exit 1
  cd "$root" || exit 1
  out=.gpu/publish
  rm -rf .gpu && mkdir -p "$out"
  echo "publishing GpuNet.Bench (self-contained linux-x64)..."
  dotnet publish GpuNet.Bench -c Release -r linux-x64 --self-contained true -p:InvariantGlobalization=true \
    -p:DebugType=none -o "$out" >.gpu/publish.log 2>&1 || { tail -30 .gpu/publish.log; exit 1; }
  tar -C "$out" -cJf .gpu/GpuNet.Bench.tar.xz . && rm -rf "$out" .gpu/publish.log
  cp GpuNet.Bench/gpu-run.sh GpuNet.Bench/compare_pytorch.py GpuNet.Bench/compare_merge.py .gpu/
  echo "packed: .gpu is $(du -sm .gpu | cut -f1) MiB (the tree that travels must stay under 64 MiB)"
  echo "there, from the repository root, with .gpu carried:  bash .gpu/gpu-run.sh run \$OUT"
}

now() { date +%s.%N; }

# section NAME BUDGET_SECONDS COMMAND...: runs COMMAND under min(budget, time left), tee'd, and records the outcome.
section() {
  local name=$1 budget=$2; shift 2
  local left t start rc status
  left=$(awk -v d="$deadline" -v n="$(now)" 'BEGIN { printf "%d", d - n }')
  budget=$(awk -v b="$budget" -v s="$scale" 'BEGIN { printf "%d", b * s }')
  t=$(( budget < left ? budget : left ))
  if (( t < 5 )); then record "$name" skipped "" 0 "no time left before the deadline"; return 1; fi
  echo "==== $name (at most ${t} s)" | tee -a "$log"
  start=$(now)
  timeout -k 5 "$t" "$@" 2>&1 | tee -a "$log"
  rc=${PIPESTATUS[0]}
  case $rc in 0) status=ok ;; 124|137) status="timed out" ;; *) status=failed ;; esac
  record "$name" "$status" "$rc" "$(awk -v s="$start" -v n="$(now)" 'BEGIN { printf "%.1f", n - s }')" ""
  return "$rc"
}

# record NAME STATUS EXIT SECONDS NOTE: one entry of sections.json, and a line of the summary.
record() {
  local note=${5//\"/\'}
  entries+=("{\"section\": \"$1\", \"status\": \"$2\", \"exit\": ${3:-null}, \"seconds\": ${4:-0}, \"note\": \"$note\"}")
  summary+=("$(printf '%-9s %-10s %6s s  %s' "$1" "$2" "${4:-0}" "$5")")
  (IFS=,; echo "[${entries[*]}]") > "$out/sections.json"
  [ "$2" = skipped ] && echo "==== $1: skipped: $5" | tee -a "$log"
  return 0
}

# The CUDA driver library, by the name ILGPU loads (libcuda.so): from the linker cache, else by a search.
find_libcuda() {
  local lib
  lib=$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 /{ print $NF; exit }')
  [ -z "$lib" ] && lib=$(timeout 30 find /usr /lib /lib64 /opt /run /usr/local -name 'libcuda.so.1' 2>/dev/null | head -n 1)
  if [ -n "$lib" ]; then
    mkdir -p "$work/cudalib" && ln -sf "$lib" "$work/cudalib/libcuda.so" && ln -sf "$lib" "$work/cudalib/libcuda.so.1"
    export LD_LIBRARY_PATH=$work/cudalib:${LD_LIBRARY_PATH:-}
  fi
  echo "cuda driver library: ${lib:-not found (ldconfig -p and a search of /usr /lib /opt /run)}" | tee -a "$log"
}

torch_problem() {  # prints why PyTorch cannot run on the device, nothing when it can
  python3 - "$device" <<'PY' 2>&1
import sys
try:
    import torch
except ImportError as e:
    print(f"python3 has no PyTorch ({e})"); sys.exit()
if sys.argv[1] == "cuda" and not torch.cuda.is_available():
    print(f"PyTorch {torch.__version__} sees no CUDA device")
PY
}

run() {
  out=${1:?usage: gpu-run.sh run OUT [cuda|cpu]}; device=${2:-cuda}
  here=$(cd "$(dirname "$0")" && pwd)
  scale=${GPU_RUN_TIME_SCALE:-1}
  deadline=$(awk -v n="$(now)" -v s="$scale" 'BEGIN { printf "%.0f", n + 470 * s }')
  mkdir -p "$out" && out=$(cd "$out" && pwd)
  log=$out/run.log; : > "$log"; entries=(); summary=()
  work=${TMPDIR:-/tmp}/gpunet-gpu-run; bin=$work/bench/GpuNet.Bench
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 PYTHONUNBUFFERED=1
  rm -rf "$work" && mkdir -p "$work/bench" && tar -xJf "$here/GpuNet.Bench.tar.xz" -C "$work/bench" \
    || { echo "cannot unpack $here/GpuNet.Bench.tar.xz: run gpu-run.sh pack first" | tee -a "$log"; exit 1; }
  echo "gpu-run on $(hostname), $(date -u +%Y-%m-%dT%H:%M:%SZ), device $device" | tee -a "$log"
  [ "$device" = cpu ] || find_libcuda
  timeout 10 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 | tee -a "$log"

  if ! section smoke 45 "$bin" --smoke --device "$device" --json "$out/smoke.json"; then
    echo "smoke test failed: nothing else runs (the error is above and in $log)" | tee -a "$log"
    finish; exit 1
  fi
  section checks 60 "$bin" --check --device "$device" --json "$out/checks.json"
  # The GEMM autotune, into a fresh cache that comes back with the results and that the report then reads.
  export GPUNET_GEMM_CACHE="$out/gemm-tuning.json"
  if "$bin" --modes | grep -qx -- --autotune; then
    section autotune 90 "$bin" --autotune --device "$device" --cache "$GPUNET_GEMM_CACHE" --json "$out/autotune.json"
  else
    record autotune skipped "" 0 "this build has no --autotune mode"
  fi
  # 20 timed runs a case on a GPU; 3 on the CPU accelerator, where a dry run would otherwise outlast its budget.
  section report 150 "$bin" --report --device "$device" --runs "$([ "$device" = cpu ] && echo 3 || echo 20)" --json "$out/gpunet.json"
  section restarts 40 "$bin" --restarts --device "$device" --restarts "$([ "$device" = cpu ] && echo 1000 || echo 1000000)" \
    --steps 1000 --paths per-restart,fused --json "$out/restarts.json"
  local problem; problem=$(torch_problem)
  if [ -n "$problem" ]; then
    record torch skipped "" 0 "$problem"
    record compile skipped "" 0 "$problem"
  else
    section torch 100 python3 "$here/compare_pytorch.py" --device "$device" --variants eager,cuda-graph --json "$out/torch.json"
    if [ "$device" = cuda ]; then
      section compile 50 python3 "$here/compare_pytorch.py" --device cuda --variants compile --no-gemm --json "$out/torch-compile.json"
    else
      record compile skipped "" 0 "torch.compile is measured on CUDA only"
    fi
  fi
  finish
}

finish() {
  local torch_files=()
  [ -f "$out/torch.json" ] && torch_files+=("$out/torch.json")
  [ -f "$out/torch-compile.json" ] && torch_files+=("$out/torch-compile.json")
  {
    echo; echo "==== sections"; printf '%s\n' "${summary[@]}"
    echo; echo "==== ratios (GpuNet / PyTorch, above 1: GpuNet is faster)"
    if [ -f "$out/gpunet.json" ] && [ ${#torch_files[@]} -gt 0 ]; then
      python3 "$here/compare_merge.py" "$out/gpunet.json" "${torch_files[@]}" --markdown | tee "$out/ratios.md"
    else
      echo "no ratio table: $([ -f "$out/gpunet.json" ] && echo "no PyTorch results" || echo "no GpuNet report")"
    fi
  } 2>&1 | tee -a "$log"
}

case ${1:-} in
  pack) pack ;;
  run) shift; run "$@" ;;
  *) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
