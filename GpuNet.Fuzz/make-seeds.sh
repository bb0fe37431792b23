#!/usr/bin/env bash
# Writes the seed corpus (corpus/<target>/) from small valid files: hand-written CSV and IDX, their gzip versions,
# and model and checkpoint files written by gpunet itself. Run from anywhere; it rebuilds the command first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
corpus="$here/corpus"
rm -rf "$corpus"
mkdir -p "$corpus"/{csv,idx,gzip,safetensors,checkpoint}

# CSV: classification with a header, regression, quotes and CRLF, a semicolon file, non-finite values
printf 'width,height,kind\n1,2,a\n3,4.5,b\n-1e2,0,a\n' > "$corpus/csv/header.csv"
printf '0.5,1.25\n0.25,0\n0.125,-3\n' > "$corpus/csv/regress.csv"
printf '"x","the ""label"""\r\n1.5,"a,b"\r\n\r\n2,"multi\r\nline"\r\n 3 ,c \r\n' > "$corpus/csv/quoted.csv"
printf '1;2;0\n3;4;1\n' > "$corpus/csv/semicolon.csv"
printf 'a,b,y\n1,nan,0\n2,inf,1\n3,4,07\n' > "$corpus/csv/nonfinite.csv"

# IDX: 3 images of 2 x 2 pixels, and 3 labels
printf '\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00\x02\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xff' > "$corpus/idx/images"
printf '\x00\x00\x08\x01\x00\x00\x00\x03\x00\x01\x02' > "$corpus/idx/labels"

# gzip: the same files compressed
gzip -9 -n -c "$corpus/csv/header.csv" > "$corpus/gzip/header.csv.gz"
gzip -9 -n -c "$corpus/idx/images" > "$corpus/gzip/images.gz"
gzip -9 -n -c "$corpus/idx/labels" > "$corpus/gzip/labels.gz"

# Model and checkpoint files, written by gpunet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
gpunet() { dotnet run -c Release --project "$root/GpuNet.Cli" --no-launch-profile -- "$@" > /dev/null; }
printf 'a,b,kind\n0,0,x\n0,1,y\n1,0,y\n1,1,z\n' > "$work/three.csv"
gpunet train --data xor --hidden 2 --epochs 1 --device cpu --model "$corpus/safetensors/xor.safetensors"
gpunet train --data "csv:$work/three.csv" --hidden none --standardize --epochs 1 --device cpu --model "$corpus/safetensors/classes.safetensors"
gpunet train --data xor --hidden 2 --epochs 2 --device cpu --model "$work/m.safetensors" --checkpoint "$work/ck"
cp "$(ls "$work"/ck/checkpoint-*.safetensors | tail -1)" "$corpus/checkpoint/adam.safetensors"
gpunet train --data xor --hidden 2 --epochs 1 --optimizer momentum --validation 0.5 --early-stop 2 --device cpu --model "$work/n.safetensors" --checkpoint "$work/ck2"
cp "$(ls "$work"/ck2/checkpoint-*.safetensors | tail -1)" "$corpus/checkpoint/momentum.safetensors"
ls -l "$corpus"/*
