#!/usr/bin/env python3
"""Splits a CPU profile of `mnistfc train -backend go -cpuprofile FILE` by
kind of work, from the flat time of each function (`go tool pprof -top`):

    scripts/profile_breakdown.py BINARY PROFILE [--epochs N --seconds-per-epoch S]

With --epochs and --seconds-per-epoch it also gives each kind in CPU
seconds per epoch and says how many of the 2 cores the run kept busy.
`make profile` runs it (scripts/profile.sh).
"""
import argparse
import re
import subprocess
import sys

# Kinds of work, first match wins; the patterns are on pprof's function names.
KINDS = [
    ("matrix products: kernels", r"dot/matmul/.*(Kernel|Slice|Small|Tile|Asm)|dot/matmul\.[a-z]*Kernel"),
    ("matrix products: packing operands", r"dot/matmul.*[Pp]ack"),
    ("matrix products: other", r"/dot[./]"),
    ("transposes", r"[Tt]ranspose"),
    ("reductions", r"[Rr]educe|ArgMinMax|execSum|execMax\b"),
    ("elementwise (activations, loss, SGD update)", r"gobackend/ops\.|simd/|math\.|archsimd"),
    ("data on the host (batches, normalising)", r"mnistfc/mnistfc\.|mnistfc\.normalise"),
    ("memory (allocation, zeroing, copies)", r"runtime\.(mallocgc|memclr|memmove|newobject|makeslice|growslice|nextFreeFast|\(\*mheap\)|\(\*mcache\)|heapBits|\(\*mspan\))|memclr|memmove"),
    ("garbage collector", r"runtime\.(gc|scanobject|markroot|greyobject|findObject|wbBuf|bgsweep|sweepone)"),
    ("graph dispatch and scheduling", r"gobackend\.\(|gobackend\.[a-zA-Z]+$|runtime\.|sync\.|internal/runtime"),
]


def flat_times(binary, profile):
    out = subprocess.run(["go", "tool", "pprof", "-top", "-nodecount=100000", binary, profile],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)(ms|s|us)\s+[\d.]+%\s+[\d.]+%\s+[\d.]+(?:ms|s|us)\s+[\d.]+%\s+(.+)$", line)
        if m:
            v = float(m.group(1)) * {"s": 1, "ms": 1e-3, "us": 1e-6}[m.group(2)]
            rows.append((m.group(3).strip(), v))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("profile")
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--seconds-per-epoch", type=float)
    a = ap.parse_args()
    rows = flat_times(a.binary, a.profile)
    if not rows:
        sys.exit("profile_breakdown.py: no samples in %s" % a.profile)
    total = sum(v for _, v in rows)
    kinds = {k: 0.0 for k, _ in KINDS}
    kinds["other"] = 0.0
    for name, v in rows:
        for k, pat in KINDS:
            if re.search(pat, name):
                kinds[k] += v
                break
        else:
            kinds["other"] += v
    per_epoch = a.epochs and a.seconds_per_epoch
    print("| work | share of CPU time |" + (" CPU s/epoch |" if per_epoch else ""))
    print("| --- | ---: |" + (" ---: |" if per_epoch else ""))
    for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]):
        if v == 0:
            continue
        row = "| %s | %.1f %% |" % (k, 100 * v / total)
        if per_epoch:
            row += " %.3f |" % (v / a.epochs)
        print(row)
    print("\nCPU time %.2f s in the profile" % total, end="")
    if per_epoch:
        wall = a.epochs * a.seconds_per_epoch
        print("; %.2f s of training wall time: on average %.2f cores busy" % (wall, total / wall))
    else:
        print()


if __name__ == "__main__":
    main()
