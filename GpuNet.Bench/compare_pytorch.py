#!/usr/bin/env python3
"""The GpuNet report's GEMM shapes and training-step cases in PyTorch (float32, TF32 off), written in the same JSON
shape as `GpuNet.Bench --report --json`, so one run on the same machine gives GpuNet/PyTorch ratios
(merge the two files with compare_merge.py).

    python3 GpuNet.Bench/compare_pytorch.py [--device cuda|cpu] [--json FILE] [--variants eager,cuda-graph,compile]
                                            [--no-gemm] [--restarts-only] [--restarts R] [--steps N]

Timing: median of 20 runs after 3 warm-up runs, the device synchronised around each run.
Variants of the training step: "eager"; on CUDA also "cuda-graph" (the whole step captured once and replayed) and
"compile" (torch.compile; a variant that fails is listed under "skipped" with the reason). Default: all that apply.
--no-gemm leaves out the GEMM cases (for a second run that adds torch.compile only).
"restarts" mirrors `GpuNet.Bench --restarts`: the seed network (1-2-2-1, logistic, its edge 3 -> 7 masked out) x R
restarts (1000) batched with baddbmm, Adam, batch 4 of the one-input XOR, timed per step (median of 20) and per N
steps (1000, one synchronised run); --restarts-only runs that case alone.
"""
import argparse, datetime, json, statistics, sys, time

try:
    import torch
except ImportError as e:
    print(f"compare_pytorch: PyTorch is not installed for {sys.executable} ({e})", file=sys.stderr)
    sys.exit(3)

RUNS, WARMUP = 20, 3

# Mirrors GpuNet.Bench/Cases.cs
def gemm_cases():
    cases = []
    for b in (128, 1024):
        for i, o in ((784, 256), (256, 128), (128, 10)):
            cases.append((f"fwd b{b} {i}->{o}", b, o, i, False, True))
            cases.append((f"dW b{b} {i}->{o}", o, i, b, True, False))
            if i != 784:
                cases.append((f"dX b{b} {i}->{o}", b, i, o, False, False))
    for s in (512, 1024, 2048, 4096):
        cases.append((f"square {s}", s, s, s, False, False))
    return cases

STEP_CASES = [
    ("mlp 784-256-128-10 b128", [784, 256, 128, 10], 128, 1, True),
    ("mlp 784-256-128-10 b1024", [784, 256, 128, 10], 1024, 1, True),
    ("wide 784-4x1024-10 b1024", [784, 1024, 1024, 1024, 1024, 10], 1024, 1, True),
    ("seed 12-weight x1000 restarts b4", [1, 2, 2, 1], 4, 1000, False),
]

def step_flop(sizes, batch, restarts):
    f = 0.0
    for l in range(1, len(sizes)):
        f += 2.0 * batch * sizes[l - 1] * sizes[l] * (2 if l == 1 else 3)
    return f * restarts

def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()

def median_ms(fn, device):
    for _ in range(WARMUP):
        fn()
    sync(device)
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)

def measure_gemm(device, cpu_cap):
    out, skipped = [], []
    g = torch.Generator(device="cpu").manual_seed(0)
    for name, m, n, k, ta, tb in gemm_cases():
        if cpu_cap and 2.0 * m * n * k > cpu_cap:
            skipped.append({"name": f"gemm torch {name}", "reason": "too large for a CPU run"})
            continue
        a = (torch.rand((k, m) if ta else (m, k), generator=g) * 2 - 1).to(device)
        b = (torch.rand((n, k) if tb else (k, n), generator=g) * 2 - 1).to(device)
        fa = (lambda: a.t()) if ta else (lambda: a)
        fb = (lambda: b.t()) if tb else (lambda: b)
        c = fa() @ fb()
        ref = fa().double() @ fb().double()
        err = float((c.double() - ref).norm() / ref.norm())
        ms = median_ms(lambda: torch.matmul(fa(), fb()), device)
        gflops = 2.0 * m * n * k / (ms * 1e-3) / 1e9
        out.append({"name": name, "variant": "torch.matmul", "m": m, "n": n, "k": k, "median_ms": ms, "gflops": gflops,
                    "fraction_of_peak": 0.0, "check_rel_error": err})
        print(f"gemm torch {name:<22} {ms:9.3f} ms {gflops:9.1f} GFLOP/s", flush=True)
    return out, skipped

class Batched(torch.nn.Module):
    """R restarts of one shape side by side (weights R x out x in), as GpuNet trains them."""
    def __init__(self, sizes, k, classification):
        super().__init__()
        self.ws = torch.nn.ParameterList()
        self.bs = torch.nn.ParameterList()
        for i, o in zip(sizes[:-1], sizes[1:]):
            w = torch.empty(k, o, i)
            for j in range(k):
                torch.nn.init.kaiming_normal_(w[j]) if classification else torch.nn.init.xavier_uniform_(w[j])
            self.ws.append(torch.nn.Parameter(w))
            self.bs.append(torch.nn.Parameter(torch.zeros(k, 1, o)))
        self.classification = classification
    def forward(self, x):  # x: (B, in), shared by the R restarts
        z = x.unsqueeze(0).expand(self.ws[0].shape[0], -1, -1)
        for li, (w, b) in enumerate(zip(self.ws, self.bs)):
            z = torch.baddbmm(b, z, w.transpose(1, 2))
            if li < len(self.ws) - 1:
                z = torch.relu(z) if self.classification else torch.sigmoid(z)
        return z if self.classification else torch.sigmoid(z)

def measure_steps(device, cpu_cap, wanted):
    out, skipped = [], []
    for name, sizes, batch, restarts, classification in STEP_CASES:
        flop = step_flop(sizes, batch, restarts)
        if cpu_cap and flop > cpu_cap:
            skipped.append({"name": f"step torch {name}", "reason": "too large for a CPU run"})
            continue
        torch.manual_seed(1)
        rows = batch * 8
        if classification:
            x_all = torch.rand(rows, sizes[0], device=device)
            y_all = torch.randint(0, sizes[-1], (rows,), device=device)
        else:
            x_all = (torch.arange(rows, device=device) % 4).float().unsqueeze(1) / 3
            y_all = ((torch.arange(rows, device=device) % 4 == 1) | (torch.arange(rows, device=device) % 4 == 2)).float().unsqueeze(1)
        perm = torch.randperm(rows, device=device)
        variants = [v for v in ["eager"] + (["cuda-graph", "compile"] if device.type == "cuda" else []) if v in wanted]
        for variant in variants:
            model = (Batched(sizes, restarts, classification) if restarts > 1 else
                     torch.nn.Sequential(*[m for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))
                                           for m in ([torch.nn.Linear(a, b)] + ([torch.nn.ReLU()] if i < len(sizes) - 2 else []))])).to(device)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3, capturable=(variant == "cuda-graph"))
            state = {"i": 0}
            xb = torch.empty(batch, sizes[0], device=device)
            yb = torch.empty((batch,) if classification else (batch, 1), dtype=y_all.dtype, device=device)
            def step_body():
                out_ = model(xb)
                if classification:
                    loss = torch.nn.functional.cross_entropy(out_, yb)
                else:
                    loss = ((out_ - yb.unsqueeze(0)) ** 2).mean(dim=(1, 2)).sum()
                opt.zero_grad(set_to_none=False)
                loss.backward()
                opt.step()
            def gather():
                s = (state["i"] % 8) * batch
                state["i"] += 1
                idx = perm[s:s + batch]
                xb.copy_(x_all[idx]); yb.copy_(y_all[idx])
            try:
                if variant == "eager":
                    def step():
                        gather(); step_body()
                elif variant == "cuda-graph":
                    gather()
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(s):
                        for _ in range(3):
                            step_body()
                    torch.cuda.current_stream().wait_stream(s)
                    graph = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(graph):
                        step_body()
                    def step():
                        gather(); graph.replay()
                else:
                    compiled = torch.compile(step_body)
                    def step():
                        gather(); compiled()
                ms = median_ms(step, device)
            except Exception as e:  # a variant this PyTorch cannot do here
                skipped.append({"name": f"step torch-{variant} {name}", "reason": f"{type(e).__name__}: {e}"[:200]})
                continue
            samples = batch * restarts / (ms * 1e-3)
            out.append({"name": name, "variant": variant, "batch": batch, "restarts": restarts, "median_ms": ms,
                        "samples_per_s": samples, "gflop": flop / 1e9, "gflops": flop / (ms * 1e-3) / 1e9})
            print(f"step torch-{variant:<10} {name:<34} {ms:9.3f} ms {samples:12.0f} samples/s", flush=True)
    return out, skipped

SEED_MASK = [[1.0, 1.0], [0.0, 1.0]]  # layer 2's W[to][from]: the edge from neuron 0 to neuron 1 is missing

def measure_restarts(device, restarts, steps):
    """The seed network x restarts, eager, per step and per `steps` steps (an epoch of `steps` batches of 4)."""
    torch.manual_seed(1)
    sizes, batch = [1, 2, 2, 1], 4
    model = Batched(sizes, restarts, False).to(device)
    mask = torch.tensor(SEED_MASK, device=device)
    with torch.no_grad():
        model.ws[1].mul_(mask)
    model.ws[1].register_hook(lambda g: g * mask)  # the missing edge gets no gradient, so Adam leaves it at 0
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rows = batch * steps
    i = torch.arange(rows, device=device)
    x_all = (i % 4).float().unsqueeze(1) / 3
    y_all = ((i % 4 == 1) | (i % 4 == 2)).float().unsqueeze(1)
    perm = torch.randperm(rows, device=device)
    state = {"i": 0}
    def step():
        s = (state["i"] % steps) * batch
        state["i"] += 1
        idx = perm[s:s + batch]
        out_ = model(x_all[idx])
        loss = ((out_ - y_all[idx].unsqueeze(0)) ** 2).mean(dim=(1, 2)).sum()
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
    per_step = median_ms(step, device)
    state["i"] = 0
    sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    run_ms = (time.perf_counter() - t) * 1e3
    missing = float(model.ws[1][:, 1, 0].abs().max())
    name = f"seed 12-weight x{restarts} restarts b4"
    print(f"restarts torch-eager {name:<34} {per_step:9.3f} ms/step {run_ms:10.1f} ms/{steps} steps (missing edge max |w| {missing:g})", flush=True)
    return [{"name": name, "variant": "eager", "restarts": restarts, "batch": batch, "steps": steps, "ms_per_step": per_step,
             "ms_per_run": run_ms, "restart_steps_per_s": steps * restarts / (run_ms * 1e-3), "missing_edge_max_abs": missing}]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--json")
    p.add_argument("--variants", default="eager,cuda-graph,compile", help="training-step variants, comma-separated")
    p.add_argument("--no-gemm", action="store_true", help="leave out the GEMM cases")
    p.add_argument("--restarts-only", action="store_true", help="time only the seed network x restarts case")
    p.add_argument("--restarts", type=int, default=1000, help="restarts of the seed network (default 1000)")
    p.add_argument("--steps", type=int, default=1000, help="steps of the timed run of that case (default 1000)")
    args = p.parse_args()
    wanted = set(args.variants.split(","))
    unknown = wanted - {"eager", "cuda-graph", "compile"}
    if unknown:
        p.error(f"unknown variants {sorted(unknown)}; use eager, cuda-graph, compile")
    if args.restarts < 1 or args.steps < 1:
        p.error("--restarts and --steps take positive counts")
    device = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    cpu_cap = 5e9 if device.type == "cpu" else None
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (PyTorch, %d threads)" % torch.get_num_threads()
    t0 = time.time()
    gemm, s1 = ([], []) if args.no_gemm or args.restarts_only else measure_gemm(device, cpu_cap)
    steps, s2 = ([], []) if args.restarts_only else measure_steps(device, cpu_cap, wanted)
    restarts = measure_restarts(device, args.restarts, args.steps)
    report = {
        "tool": "pytorch", "version": 1, "date": datetime.date.today().isoformat(),
        "device": {"name": name, "kind": device.type, "torch": torch.__version__,
                   "driver": torch.version.cuda if device.type == "cuda" else None},
        "gemm": gemm, "train_step": steps, "restarts": restarts, "skipped": s1 + s2, "seconds": time.time() - t0,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)
    return 0

if __name__ == "__main__":
    sys.exit(main())
