#!/usr/bin/env python3
"""Merges a GpuNet report and PyTorch reports (same machine, same run) into a ratio table.

    python3 GpuNet.Bench/compare_merge.py gpunet.json torch.json [more-torch.json ...] [--markdown]

For each GEMM shape: GpuNet's best variant vs torch.matmul; for each training step: GpuNet vs each PyTorch variant
(a second PyTorch file, e.g. the torch.compile run, adds its variants). A ratio above 1 means GpuNet is faster.
"""
import json, sys

def main():
    files = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(files) < 2:
        print(__doc__); return 2
    g = json.load(open(files[0]))
    t = json.load(open(files[1]))
    for extra in files[2:]:
        more = json.load(open(extra))
        t["gemm"] += more.get("gemm", [])
        t["train_step"] += more.get("train_step", [])
    md = "--markdown" in sys.argv
    rows = []
    best = {}
    for e in g["gemm"]:
        if e["name"] not in best or e["gflops"] > best[e["name"]]["gflops"]:
            best[e["name"]] = e
    for e in t["gemm"]:
        if e["name"] in best:
            b = best[e["name"]]
            rows.append(("gemm " + e["name"], f'{b["variant"]} {b["gflops"]:.1f} GFLOP/s', f'{e["gflops"]:.1f} GFLOP/s', b["gflops"] / e["gflops"]))
    gs = {e["name"]: e for e in g["train_step"]}
    for e in t["train_step"]:
        if e["name"] in gs:
            b = gs[e["name"]]
            rows.append((f'step {e["name"]} vs {e["variant"]}', f'{b["samples_per_s"]:.0f}/s', f'{e["samples_per_s"]:.0f}/s', b["samples_per_s"] / e["samples_per_s"]))
    print(f'GpuNet on {g["device"]["name"]} ({g["date"]}) vs PyTorch {t["device"].get("torch")} on {t["device"]["name"]} ({t["date"]})')
    if md:
        print("| case | GpuNet | PyTorch | GpuNet / PyTorch |\n| --- | --- | --- | --- |")
        for r in rows: print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} |")
    else:
        for r in rows: print(f"{r[0]:<55} {r[1]:>26} {r[2]:>18} {r[3]:8.2f}")
    return 0

if __name__ == "__main__":
    sys.exit(main())
