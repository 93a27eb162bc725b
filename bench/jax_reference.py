#!/usr/bin/env python3
"""JAX peer of the side-by-side benchmark (bench/run.sh with BENCH_PEERS=1).

The original course notebook's model and training, written the way a JAX user
would: 784 -> H -> sigmoid -> 10 -> softmax (per row), cross-entropy
-mean(sum(t * log y)), plain SGD (lr 0.1), batch 1000, on the official MNIST
IDX files (bench/mnist_idx.py: the GoMNIST Go module's copy, no download),
split 51000/9000 exactly as bench/torch_reference.py splits them (sklearn's
train_test_split, seed 0); validation loss and accuracy every epoch, the
best epoch's weights (rounded validation accuracy, as the original) tested at
the end. The weights start from PyTorch's nn.Linear distribution,
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn with jax.random.

Needs jax (CPU) and numpy only: run it with the peers' venv,
bench/install-peers.sh (.tools/bench-venv/bin/python bench/jax_reference.py -h).

Modes (the data are device arrays in both, sent once; each epoch's batch
order is a jax.random permutation drawn on the device):
  step  one jax.jit call per training batch (the batch gathered from the
        resident set inside it) and one per validation batch; the per-batch
        losses and accuracies stay on the device and are read once per epoch.
  scan  one jax.jit call per epoch: jax.lax.scan over the training batches,
        then jax.lax.map over the validation batches, all in one program.

Timing: seconds per epoch = training (51000 images) + validation (9000),
averaged over the epochs after the first, which includes the compilations
(first_epoch_seconds has it). With --epochs 1 that first epoch is all there
is, and "includes_compile" says so.

Threads (--threads N): XLA's CPU client has no thread-count setting; its
intra-op pool is as large as the CPUs the process may run on. So for N below
that count the process is pinned to N of its CPUs (os.sched_setaffinity,
before jax is imported, as `taskset` would) and for N = 1 XLA_FLAGS also gets
--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1. N at or
above the CPU count changes nothing (all of them are used).
"""
import time

T0 = time.perf_counter()

import argparse
import json
import os
import sys

EXIT_USAGE = 2


def fail(msg):
    print(f"jax_reference.py: error: {msg}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def parse_args(argv):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from mnist_idx import add_common_args, check_common_args  # Needs numpy only: before jax is imported.
    p = argparse.ArgumentParser(
        prog="jax_reference.py",
        description="JAX version of the original MNIST fully-connected notebook's training (CPU).")
    p.add_argument("--mode", default="step", choices=["step", "scan"],
                   help="step: one jit call per batch; scan: one jit call per epoch (lax.scan) (default step)")
    add_common_args(p)
    p.add_argument("--threads", type=int, default=2,
                   help="CPUs XLA may use: the process is pinned to that many (default 2; see the docstring)")
    a = p.parse_args(argv)
    check_common_args(p, a)
    return a


def limit_cpus(n):
    """Pins the process to n of its CPUs (before jax is imported); returns the CPUs it may use."""
    cpus = sorted(os.sched_getaffinity(0))
    if n < len(cpus):
        cpus = cpus[:n]
        os.sched_setaffinity(0, cpus)
        if n == 1:
            flags = os.environ.get("XLA_FLAGS", "")
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false"
                                       " intra_op_parallelism_threads=1").strip()
    return cpus


ARGS = parse_args(sys.argv[1:]) if __name__ == "__main__" else None
CPUS = limit_cpus(ARGS.threads) if ARGS else None

try:
    import numpy as np
    import jax
    import jax.numpy as jnp
except ImportError as e:  # pragma: no cover - depends on the machine
    fail(f"{e}; install the peers' venv with bench/install-peers.sh and run this with its python "
         f"(.tools/bench-venv/bin/python)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import load_mnist, normalise, run_summary, split_indices  # noqa: E402


# ---------------------------------------------------------------- model

def init_params(key, hidden):
    """PyTorch's nn.Linear initialisation: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    def linear(k, fan_in, fan_out):
        kw, kb = jax.random.split(k)
        bound = 1.0 / np.sqrt(fan_in)
        w = jax.random.uniform(kw, (fan_in, fan_out), jnp.float32, -bound, bound)
        b = jax.random.uniform(kb, (fan_out,), jnp.float32, -bound, bound)
        return w, b
    k1, k2 = jax.random.split(key)
    w1, b1 = linear(k1, 784, hidden)
    w2, b2 = linear(k2, hidden, 10)
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


def sigmoid(x):
    return 1 / (1 + jnp.exp(-x))


def softmax_row(x):
    x = x - jnp.max(x, axis=1, keepdims=True)
    e = jnp.exp(x)
    return e / jnp.sum(e, axis=1, keepdims=True)


def forward(params, x):
    h = sigmoid(x @ params["w1"] + params["b1"])
    return softmax_row(h @ params["w2"] + params["b2"])


def loss_and_outputs(params, x, labels):
    y = forward(params, x)
    t = jax.nn.one_hot(labels, 10, dtype=y.dtype)
    return -jnp.sum(t * jnp.log(y)) / y.shape[0], y


def accuracy(y, labels):
    return jnp.mean((jnp.argmax(y, axis=1) == labels).astype(jnp.float32))


def sgd_step(params, x, labels, lr):
    """One SGD step; returns the new parameters and the batch's loss and accuracy (before the step)."""
    (loss, y), grads = jax.value_and_grad(loss_and_outputs, has_aux=True)(params, x, labels)
    params = jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)
    return params, loss, accuracy(y, labels)


def evaluate_batch(params, x, labels):
    loss, y = loss_and_outputs(params, x, labels)
    return loss, accuracy(y, labels)


# ---------------------------------------------------------------- training

class Trainer:
    """The jitted functions of a mode over the resident data."""

    def __init__(self, mode, lr, batch, x, y, xv, yv):
        self.mode, self.lr, self.batch = mode, lr, batch
        self.x, self.y, self.xv, self.yv = x, y, xv, yv
        n, nv = len(x), len(xv)
        self.full, self.rest = divmod(n, batch)          # training: full batches, then a smaller one
        self.vfull, self.vrest = divmod(nv, batch)
        B = batch

        @jax.jit
        def step(params, x, y, order, start):
            idx = jax.lax.dynamic_slice_in_dim(order, start, B)
            return sgd_step(params, x[idx], y[idx], lr)
        self.step = step

        @jax.jit
        def last_step(params, x, y, idx):            # the smaller last batch, if any
            return sgd_step(params, x[idx], y[idx], lr)
        self.last_step = last_step

        @jax.jit
        def eval_batch(params, x, y, start):
            xb = jax.lax.dynamic_slice_in_dim(x, start, B)
            yb = jax.lax.dynamic_slice_in_dim(y, start, B)
            return evaluate_batch(params, xb, yb)
        self.eval_batch = eval_batch
        self.eval_rest = jax.jit(evaluate_batch)

        full, rest, vfull, vrest = self.full, self.rest, self.vfull, self.vrest

        @jax.jit
        def epoch(params, key, x, y, xv, yv):
            """A whole epoch, one program: training (lax.scan over the batches), then validation."""
            order = jax.random.permutation(key, len(x))
            losses, accs = [], []
            if full:
                def body(p, idx):
                    p, loss, acc = sgd_step(p, x[idx], y[idx], lr)
                    return p, (loss, acc)
                params, (l, a) = jax.lax.scan(body, params, order[:full * B].reshape(full, B))
                losses.append(l)
                accs.append(a)
            if rest:  # the smaller last batch (shapes are static: len(x) and B are known)
                idx = order[full * B:]
                params, l, a = sgd_step(params, x[idx], y[idx], lr)
                losses.append(l[None])
                accs.append(a[None])
            # The validation batches, in order, with the epoch's final weights.
            vlosses, vaccs = [], []
            if vfull:
                vx = xv[:vfull * B].reshape(vfull, B, -1)
                vy = yv[:vfull * B].reshape(vfull, B)
                l, a = jax.lax.map(lambda b: evaluate_batch(params, b[0], b[1]), (vx, vy))
                vlosses.append(l)
                vaccs.append(a)
            if vrest:
                l, a = evaluate_batch(params, xv[vfull * B:], yv[vfull * B:])
                vlosses.append(l[None])
                vaccs.append(a[None])
            return (params, jnp.concatenate(losses), jnp.concatenate(accs),
                    jnp.concatenate(vlosses), jnp.concatenate(vaccs))
        self.epoch_fn = epoch

    def evaluate(self, params, x, y):
        """Per-batch losses and accuracies over x, y in order (device values)."""
        full, rest = divmod(len(x), self.batch)
        out = [self.eval_batch(params, x, y, i * self.batch) for i in range(full)]
        if rest:
            out.append(self.eval_rest(params, x[full * self.batch:], y[full * self.batch:]))
        return out

    def train_epoch(self, params, key):
        """One epoch of training and validation: params, (train losses, accs), (val losses, accs) as numpy."""
        B = self.batch
        if self.mode == "scan":
            params, tl, ta, vl, va = self.epoch_fn(params, key, self.x, self.y, self.xv, self.yv)
            return params, (np.asarray(tl), np.asarray(ta)), (np.asarray(vl), np.asarray(va))
        order = jax.random.permutation(key, len(self.x))
        tr = []
        for i in range(self.full):
            params, l, a = self.step(params, self.x, self.y, order, i * B)
            tr.append((l, a))
        if self.rest:
            params, l, a = self.last_step(params, self.x, self.y, order[self.full * B:])
            tr.append((l, a))
        va = self.evaluate(params, self.xv, self.yv)
        tl, ta = zip(*tr)
        vl, vacc = zip(*va)
        return params, (np.asarray(jnp.stack(tl)), np.asarray(jnp.stack(ta))), \
            (np.asarray(jnp.stack(vl)), np.asarray(jnp.stack(vacc)))


def main(args):
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    folder, d = load_mnist(args.data)
    tr_idx, va_idx = split_indices(len(d["train_images"]), args.val_ratio, args.seed)
    x_all = normalise(d["train_images"])
    y_all = d["train_labels"].astype(np.int32)
    dev = jax.devices("cpu")[0]
    put = lambda a: jax.device_put(np.ascontiguousarray(a), dev)  # noqa: E731
    x, y = put(x_all[tr_idx]), put(y_all[tr_idx])
    xv, yv = put(x_all[va_idx]), put(y_all[va_idx])
    xt, yt = put(normalise(d["test_images"])), put(d["test_labels"].astype(np.int32))
    del x_all, y_all, d
    jax.block_until_ready((x, y, xv, yv, xt, yt))
    t_data = time.perf_counter()
    say(f"Data from {folder}: {len(x)} training, {len(xv)} validation, {len(xt)} test images on {dev}; "
        f"{t_data - T0:.2f} s so far")

    key = jax.random.PRNGKey(args.seed)
    key, k_init = jax.random.split(key)
    # Committed to the device like the jitted steps' outputs, or the first step compiles twice.
    params = jax.device_put(init_params(k_init, args.hidden), dev)
    trainer = Trainer(args.mode, args.lr, args.batch, x, y, xv, yv)
    say(f"Training hidden {args.hidden}, lr {args.lr:g}, {args.epochs} epochs, mode {args.mode}, "
        f"CPUs {CPUS}, jax {jax.__version__} ({jax.default_backend()})")

    best_acc, best_epoch, best_params = -1.0, 0, params
    epoch_seconds, last = [], {}
    t_train = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t_epoch = time.perf_counter()
        params, (tl, ta), (vl, va) = trainer.train_epoch(params, jax.random.fold_in(key, epoch))
        train_acc, train_loss = float(np.mean(ta)), float(np.mean(tl))
        val_acc_raw, val_loss = float(np.mean(va)), float(np.mean(vl))
        epoch_seconds.append(time.perf_counter() - t_epoch)
        say(f"Train epoch {epoch}: accuracy {train_acc}, loss {train_loss}")
        val_acc = float(np.round(val_acc_raw, 3))
        say(f"Validation epoch {epoch}: accuracy {val_acc}, loss {val_loss} ({epoch_seconds[-1]:.3f} s)")
        if best_acc + 0.001 < val_acc:
            best_acc, best_epoch, best_params = val_acc, epoch, params  # immutable: no copy needed
            say(f"==== new best model! epoch {epoch}, accuracy {val_acc} ====")
        last = dict(train_acc=train_acc, train_loss=train_loss, val_acc=val_acc_raw, val_loss=val_loss)
    train_seconds = time.perf_counter() - t_train

    tests = trainer.evaluate(best_params, xt, yt)
    test_loss = float(np.mean([float(l) for l, _ in tests]))
    test_acc = float(np.mean([float(a) for _, a in tests]))
    total = time.perf_counter() - T0
    steady = epoch_seconds[1:] or epoch_seconds
    spe = sum(steady) / len(steady)
    say("===== Test Results =====")
    say(f"Test Accuracy : {test_acc}")
    say(f"Test Loss : {test_loss}")
    say(f"Best val accuracy was {best_acc}, at epoch {best_epoch}")
    say(f"{spe:.3f} s per epoch (train + validation{', epochs 2..' if len(epoch_seconds) > 1 else ', with compilation'}"
        f"{len(epoch_seconds) if len(epoch_seconds) > 1 else ''}); first epoch {epoch_seconds[0]:.3f} s; "
        f"{total:.2f} s in all")
    if args.json:
        import jaxlib
        print(json.dumps({
            "impl": "jax",
            "mode": args.mode,
            "device": str(dev),
            "threads": args.threads,
            "cpus": CPUS,
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "hidden": args.hidden,
            "lr": args.lr,
            "epochs": args.epochs,
            "batch": args.batch,
            "softmax": "row",
            "seed": args.seed,
            "seconds_per_epoch": spe,
            "includes_compile": len(epoch_seconds) == 1,
            **run_summary(epoch_seconds, t_data - T0, train_seconds, total, best_epoch, best_acc, last,
                          test_acc, test_loss),
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(ARGS))
