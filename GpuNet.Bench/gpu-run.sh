#!/usr/bin/env bash
# Builds a self-contained linux-x64 GpuNet.Bench (for a GPU machine without .NET) into .gpu/ and prints the command
# to run there. Run from the repository root.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
out=.gpu/publish/GpuNet.Bench
rm -rf "$out" && mkdir -p "$out"
dotnet publish GpuNet.Bench -c Release -r linux-x64 --self-contained true -p:InvariantGlobalization=true \
  -p:DebugType=none -o "$out" >/tmp/gpunet-bench-publish.log 2>&1 || { tail -30 /tmp/gpunet-bench-publish.log; exit 1; }
tar -C "$out" -cJf .gpu/GpuNet.Bench.tar.xz .
rm -rf .gpu/publish
cat > .gpu/run-bench.sh <<'INNER'
#!/usr/bin/env bash
# On the GPU machine, from the repository root: unpack, make libcuda.so findable, run the report and PyTorch.
set -uo pipefail
out=${1:-.}
dir=/tmp/gpunet-bench && rm -rf "$dir" && mkdir -p "$dir" && tar -xJf .gpu/GpuNet.Bench.tar.xz -C "$dir" || exit 1
lib=$(ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 /{print $NF; exit}')
if [ -n "$lib" ]; then mkdir -p /tmp/cudalib && ln -sf "$lib" /tmp/cudalib/libcuda.so && export LD_LIBRARY_PATH=/tmp/cudalib:${LD_LIBRARY_PATH:-}; fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
"$dir/GpuNet.Bench" --report --device cuda --json "$out/gpunet.json"; rc=$?
python3 GpuNet.Bench/compare_pytorch.py --device cuda --json "$out/torch.json"
python3 GpuNet.Bench/compare_merge.py "$out/gpunet.json" "$out/torch.json" --markdown
exit $rc
INNER
ls -la .gpu/GpuNet.Bench.tar.xz
echo "packed: .gpu is $(du -sm .gpu | cut -f1) MiB"
echo "run on the GPU machine (with .gpu carried along), from the repository root:"
echo "  bash .gpu/run-bench.sh \$OUT"
