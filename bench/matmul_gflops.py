#!/usr/bin/env python3
"""This machine's float32 matrix-multiply speed, and the floor it puts under an epoch.

Part of the side-by-side benchmark (bench/run.sh with BENCH_PEERS=1). It
times every library of --libs that this python can import: torch (torch.mm:
MKL in PyPI's wheels, OpenBLAS in Debian's python3-torch), numpy (its BLAS,
OpenBLAS in PyPI's wheels) and jax (XLA's CPU dot), with --threads threads
(torch.set_num_threads, OPENBLAS_NUM_THREADS unless already set, and for XLA,
which has no thread setting, the process pinned to that many CPUs when there
are more). The libraries differ a lot on one machine (here, an AMD EPYC
without AVX-512, PyPI torch's MKL ran the model's product at a third of
Debian's OpenBLAS speed), so run.sh runs this with both the peers' venv
(.tools/bench-venv/bin/python) and Debian's /usr/bin/python3 and takes the
fastest. Products:
  model   [1000,784] x [784,100]    the first layer's forward product, per batch
  dW1     [784,1000] x [1000,100]   its weight gradient, x^T g
  square  [2048,2048] x [2048,2048] a large product, near the machine's peak
  epoch   all of an epoch's products at their own shapes, back to back (the
          matmul-only part of one epoch, nothing else)
Each is the best of --rounds rounds of at least --round-seconds (the least
disturbed by other processes); the median is reported too.

FLOP per epoch (hidden H = 100, batch 1000, 51000 training and 9000
validation images, 2*m*k*n per [m,k]x[k,n] product):
  training, per image: forward 784*H + H*10, backward H*10 (dW2) + 10*H (dH)
  + 784*H (dW1); no gradient for the input itself; times 2, times 51000
  = 16.30 GFLOP
  validation, per image: forward 784*H + H*10, times 2, times 9000 = 1.43 GFLOP
  in all 17.73 GFLOP. Bias additions, sigmoid, softmax, the loss and SGD's
  update are left out (O(batch*H) each, memory-bound, not matmuls).
The floor of an epoch is 17.73 GFLOP / (the best GFLOP/s at the model's
shape): an implementation of this model that multiplies at that speed cannot
do an epoch in less; the square product's GFLOP/s gives a lower, peak-based
floor, and "epoch" the measured time of the products alone.
"""
import argparse
import json
import os
import statistics
import sys
import time

N_TRAIN, N_VAL, BATCH, IN, OUT = 51000, 9000, 1000, 784, 10


def _threads_from_argv(argv):
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "2"


# Debian's torch multiplies in OpenBLAS's pool: give it the same thread count
# (set before torch, and so OpenBLAS, is loaded). PyPI's torch (MKL) ignores it.
if not os.environ.get("OPENBLAS_NUM_THREADS"):
    _t = _threads_from_argv(sys.argv[1:])
    if _t.isdigit() and int(_t) > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = _t


def products(hidden, batch=BATCH, n_train=N_TRAIN, n_val=N_VAL):
    """The epoch's matrix products as (m, k, n, times, what)."""
    out = []
    def batches(n):
        full, rest = divmod(n, batch)
        return [(batch, full)] + ([(rest, 1)] if rest else [])
    for b, times in batches(n_train):
        out += [(b, IN, hidden, times, "train: x W1"),
                (b, hidden, OUT, times, "train: h W2"),
                (hidden, b, OUT, times, "train: dW2 = h^T g"),
                (b, OUT, hidden, times, "train: dh = g W2^T"),
                (IN, b, hidden, times, "train: dW1 = x^T g")]
    for b, times in batches(n_val):
        out += [(b, IN, hidden, times, "validation: x W1"),
                (b, hidden, OUT, times, "validation: h W2")]
    return out


def epoch_flop(hidden):
    return sum(2 * m * k * n * times for m, k, n, times, _ in products(hidden))


def mapped_blas(skip=()):
    """The BLAS libraries this process has loaded (/proc/self/maps), as folder/file: Debian's
    libblas.so.3 is whichever BLAS its alternatives point at (openblas-pthread/libblas.so.3 ...)."""
    found = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split(maxsplit=5)[-1].strip()
                low = path.lower()
                if path.startswith("/") and any(t in low for t in ("blas", "blis", "mkl")) \
                        and not any(t in low for t in skip):
                    found.add(os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path)))
    except OSError:
        pass
    named = [f for f in found if any(t in os.path.basename(f).lower() for t in ("openblas", "blis", "mkl"))]
    return ", ".join(sorted(named or [f for f in found if "lapack" not in f])) or "?"


def torch_lib():
    import torch
    torch.manual_seed(0)
    cfg = torch.__config__.show()
    # PyPI's wheels link MKL in statically; others (Debian's: BLAS_INFO=generic) load a BLAS library.
    blas = "MKL" if "BLAS_INFO=mkl" in cfg else None

    def make(m, k, n, what):
        # x^T g and g W2^T as autograd does them: transposed views, no copies.
        a = torch.randn(k, m).t() if "^T g" in what else torch.randn(m, k)
        b = torch.randn(n, k).t() if "W2^T" in what else torch.randn(k, n)
        out = torch.empty(m, n)
        return lambda: torch.mm(a, b, out=out)
    if blas is None:
        make(2, 2, 2, "")()  # the BLAS is loaded by now
        blas = mapped_blas(skip=("numpy", "scipy_openblas"))  # not numpy's own
    return {"lib": "torch", "version": torch.__version__, "blas": blas, "make": make, "sync": lambda r: None,
            "setup": lambda threads: torch.set_num_threads(threads)}


def numpy_lib():
    import numpy as np
    rng = np.random.default_rng(0)
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except Exception:  # older numpy (no mode=): the library it loaded
        np.ones((2, 2), np.float32) @ np.ones((2, 2), np.float32)
        blas = mapped_blas(skip=("torch",))

    def make(m, k, n, what):
        f32 = np.float32
        a = rng.standard_normal((k, m), f32).T if "^T g" in what else rng.standard_normal((m, k), f32)
        b = rng.standard_normal((n, k), f32).T if "W2^T" in what else rng.standard_normal((k, n), f32)
        out = np.empty((m, n), f32)
        return lambda: np.matmul(a, b, out=out)
    return {"lib": "numpy", "version": np.__version__, "blas": blas, "make": make, "sync": lambda r: None,
            "setup": lambda threads: None}


def jax_lib():
    import jax
    key = jax.random.PRNGKey(0)

    def make(m, k, n, what):
        ka, kb = jax.random.split(jax.random.fold_in(key, (m * 1000003 + k * 1009 + n) % 2**31))
        if "^T g" in what:
            a, f = jax.random.normal(ka, (k, m)), jax.jit(lambda a, b: a.T @ b)
        else:
            a, f = jax.random.normal(ka, (m, k)), jax.jit(lambda a, b: a @ b)
        if "W2^T" in what:
            b, f = jax.random.normal(kb, (n, k)), jax.jit(lambda a, b: a @ b.T)
        else:
            b = jax.random.normal(kb, (k, n))
        return lambda: f(a, b)
    return {"lib": "jax", "version": jax.__version__, "blas": "XLA CPU", "make": make,
            "sync": lambda r: r.block_until_ready(), "setup": lambda threads: None}


LIBS = {"torch": torch_lib, "numpy": numpy_lib, "jax": jax_lib}


def measure(fn, sync, flop, rounds, round_seconds):
    """(best GFLOP/s, median GFLOP/s, best seconds per call) of fn, which does flop FLOP."""
    for _ in range(3):
        sync(fn())
    reps, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            r = fn()
        sync(r)
        t = time.perf_counter() - t0
        if t >= round_seconds / 4:
            break
        reps *= 2
    reps = max(1, int(reps * round_seconds / max(t, 1e-9)))
    per_call = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(reps):
            r = fn()
        sync(r)
        per_call.append((time.perf_counter() - t0) / reps)
    best = min(per_call)
    return flop / best / 1e9, flop / statistics.median(per_call) / 1e9, best


def measure_lib(lib, a):
    H = a.hidden
    rows = []

    def row(name, shape, fn, flop):
        best, med, sec = measure(fn, lib["sync"], flop, a.rounds, a.round_seconds)
        rows.append({"name": name, "shape": shape, "gflops": best, "gflops_median": med, "seconds": sec})

    for name, (m, k, n, what) in (("model", (BATCH, IN, H, "")), ("dW1", (IN, BATCH, H, "dW1 = x^T g")),
                                  ("square", (a.square, a.square, a.square, ""))):
        row(name, f"[{m},{k}]x[{k},{n}]", lib["make"](m, k, n, what), 2 * m * k * n)
    # All of an epoch's products, at their shapes, back to back.
    prods = [(lib["make"](m, k, n, what), times) for m, k, n, times, what in products(H)]

    def epoch():
        r = None
        for fn, times in prods:
            for _ in range(times):
                r = fn()
        return r
    row("epoch", "all of an epoch's products", epoch, epoch_flop(H))
    return {"lib": lib["lib"], "version": lib["version"], "blas": lib["blas"], "rows": rows}


def main(argv):
    p = argparse.ArgumentParser(prog="matmul_gflops.py",
                                description="float32 matmul GFLOP/s on this machine and the epoch floor it implies")
    p.add_argument("--threads", type=int, default=2,
                   help="threads (torch.set_num_threads, OPENBLAS_NUM_THREADS; below the CPU count the "
                        "process is pinned to that many CPUs, for XLA) (default 2)")
    p.add_argument("--libs", default="torch,numpy,jax",
                   help="comma-separated libraries to time, each skipped if this python cannot import it "
                        "(default torch,numpy,jax)")
    p.add_argument("--hidden", type=int, default=100, help="hidden layer size H (default 100)")
    p.add_argument("--square", type=int, default=2048, help="size of the square product (default 2048)")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds per product (default 5)")
    p.add_argument("--round-seconds", type=float, default=0.3, help="length of a round (default 0.3)")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    a = p.parse_args(argv)
    if a.threads < 1 or a.hidden < 1 or a.square < 1 or a.rounds < 1 or not a.round_seconds > 0:
        p.error("--threads, --hidden, --square, --rounds and --round-seconds must be positive")
    names = [n.strip() for n in a.libs.split(",") if n.strip()]
    for n in names:
        if n not in LIBS:
            p.error(f"--libs: unknown library {n!r} (known: {', '.join(LIBS)})")
    cpus = sorted(os.sched_getaffinity(0))
    if a.threads < len(cpus):  # XLA's pool is as large as the CPUs it may use
        cpus = cpus[:a.threads]
        os.sched_setaffinity(0, cpus)

    libs, skipped = [], []
    for n in names:
        try:
            lib = LIBS[n]()
        except ImportError as e:
            skipped.append(f"{n} ({e})")
            continue
        lib["setup"](a.threads)
        libs.append(measure_lib(lib, a))
    if not libs:
        print(f"matmul_gflops.py: error: none of {', '.join(names)} can be imported by {sys.executable}",
              file=sys.stderr)
        return 2

    H = a.hidden
    flop = epoch_flop(H)
    gf = flop / 1e9
    best = max(libs, key=lambda l: l["rows"][0]["gflops"])
    peak = max(libs, key=lambda l: l["rows"][2]["gflops"])
    fastest_epoch = min(libs, key=lambda l: l["rows"][3]["seconds"])
    model, peak_gflops = best["rows"][0]["gflops"], peak["rows"][2]["gflops"]
    result = {
        "python": sys.executable,
        "threads": a.threads,
        "cpus": cpus,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "hidden": H,
        "epoch_gflop": gf,
        "libs": libs,
        "skipped": skipped,
        "gflops_model": model,
        "gflops_model_lib": f"{best['lib']} {best['version']} ({best['blas']})",
        "gflops_peak": peak_gflops,
        "gflops_peak_lib": f"{peak['lib']} {peak['version']} ({peak['blas']})",
        "floor_seconds": gf / model,
        "floor_seconds_peak": gf / peak_gflops,
        "matmul_epoch_seconds": fastest_epoch["rows"][3]["seconds"],
        "matmul_epoch_lib": f"{fastest_epoch['lib']} {fastest_epoch['version']} ({fastest_epoch['blas']})",
    }
    print(f"float32 matmul GFLOP/s with {a.threads} threads on CPUs {cpus}, best (median) of {a.rounds} rounds "
          f"of {a.round_seconds:g} s:")
    for l in libs:
        print(f"{l['lib']} {l['version']} ({l['blas']}):")
        for r in l["rows"]:
            print(f"  {r['name']:<7} {r['shape']:<28} {r['gflops']:8.1f} ({r['gflops_median']:.1f})"
                  + (f"  {r['seconds']:.3f} s" if r["name"] == "epoch" else ""))
    for s in skipped:
        print(f"skipped: {s}")
    print(f"An epoch (hidden {H}): {gf:.2f} GFLOP of matmuls (training 51000 images: forward and backward "
          f"of both layers, no input gradient; validation 9000: forward)")
    print(f"Floor: {gf:.2f} GFLOP / {model:.1f} GFLOP/s ({result['gflops_model_lib']}, model shape) "
          f"= {result['floor_seconds']:.3f} s/epoch; at the {a.square}^3 product's {peak_gflops:.1f} GFLOP/s: "
          f"{result['floor_seconds_peak']:.3f} s; the epoch's products back to back: "
          f"{result['matmul_epoch_seconds']:.3f} s ({result['matmul_epoch_lib']})")
    if a.json:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
