#!/usr/bin/env bash
# Installs NVIDIA's offline compiler tools (ptxas, cuobjdump, nvdisasm) into a private folder, with no GPU and no
# system-wide change, so that GpuNet can read the machine code (SASS) an sm_90 GPU would run:
#   dotnet run -c Release --project GpuNet.Bench -- --sass      and the SASS guard tests.
#
#   tools/install-cuda-tools.sh [DIR]
#
# DIR defaults to $GPUNET_CUDA_TOOLS, else ${XDG_CACHE_HOME:-~/.cache}/gpunet/cuda-tools, which is where GpuNet looks
# (GPUNET_CUDA_TOOLS first, then that folder, then ptxas on the PATH). Prints DIR on success; a second run finds the
# tools there and does nothing.
#
# The tools come from Debian's non-free package nvidia-cuda-toolkit (CUDA 11.8 on Debian 12, which knows sm_90),
# downloaded through apt-get with a private apt state: the machine's own Debian mirror and release with the non-free
# component added, checked against Debian's archive keys like any apt download. Only the three programs are kept.
# They are NVIDIA's, under NVIDIA's CUDA licence; they stay in this folder and are not part of GpuNet.
set -euo pipefail

dir=${1:-${GPUNET_CUDA_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/gpunet/cuda-tools}}
tools=(ptxas cuobjdump nvdisasm)

installed() {
  for t in "${tools[@]}"; do [ -x "$dir/bin/$t" ] || return 1; done
  "$dir/bin/ptxas" --version >/dev/null 2>&1
}

fail() { echo "install-cuda-tools: $*" >&2; exit 1; }

if installed; then echo "$dir"; exit 0; fi

command -v apt-get >/dev/null || fail "needs apt-get and a Debian release (found none); install CUDA's ptxas and cuobjdump yourself and set GPUNET_CUDA_TOOLS to their folder"
command -v dpkg-deb >/dev/null || fail "needs dpkg-deb"
[ -r /etc/os-release ] || fail "no /etc/os-release: cannot tell the Debian release"
suite=$(. /etc/os-release && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}" || true)
[ -n "$suite" ] || fail "this is not Debian ($(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")); the package comes from Debian's non-free archive"

# The first non-security mirror of the machine's apt sources (one-line or deb822 format).
mirror=$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } |
          awk '/^deb / { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }
               /^URIs:/ { print $2; exit }' | grep -v security | head -n 1 || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
signed=""
[ -r "$keyring" ] && signed="[signed-by=$keyring] "
echo "deb ${signed}$mirror $suite non-free" > "$work/sources.list"
apt_opts=(-q -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/lists"
          -o Dir::Cache="$work/cache" -o Debug::NoLocking=1)
[ "$(id -u)" = 0 ] && apt_opts+=(-o APT::Sandbox::User=root)

echo "install-cuda-tools: fetching nvidia-cuda-toolkit from $mirror $suite non-free" >&2
apt-get "${apt_opts[@]}" update >"$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; fail "apt-get update of $mirror $suite non-free failed"; }
(cd "$work" && apt-get "${apt_opts[@]}" download nvidia-cuda-toolkit) >>"$work/apt.log" 2>&1 \
  || { tail -n 20 "$work/apt.log" >&2; fail "could not download nvidia-cuda-toolkit from $mirror $suite non-free"; }
dpkg-deb -x "$work"/nvidia-cuda-toolkit_*.deb "$work/x"

# Assemble next to the destination and rename, so an interrupted install never looks complete.
parent=$(dirname "$dir")
mkdir -p "$parent"
stage=$(mktemp -d "$parent/.cuda-tools.XXXXXX")
chmod 755 "$stage"
mkdir -p "$stage/bin"
for t in "${tools[@]}"; do
  [ -x "$work/x/usr/bin/$t" ] || { rm -rf "$stage"; fail "the package holds no usr/bin/$t"; }
  cp "$work/x/usr/bin/$t" "$stage/bin/"
done
"$stage/bin/ptxas" --version | tail -n 2 > "$stage/VERSION"
rm -rf "$dir"
mv "$stage" "$dir"
echo "install-cuda-tools: $(head -n 1 "$dir/VERSION")" >&2
echo "$dir"
