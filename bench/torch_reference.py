#!/usr/bin/python3
"""PyTorch reference for the side-by-side benchmark (bench/run.sh).

A reimplementation of the training loop of the original course notebook
(784 -> H -> sigmoid -> 10 -> softmax, hand-written sigmoid, softmax,
cross-entropy and accuracy, plain SGD, batch 1000, 85/15 train/validation
split, best model on rounded validation accuracy, then test), reading the
official MNIST IDX files from disk (no download).

Run with Debian's python (python3-torch): /usr/bin/python3 bench/torch_reference.py -h
It runs unchanged with PyTorch 2.x too: bench/install-peers.sh's venv
(.tools/bench-venv/bin/python, PyPI's torch 2.15 with torchvision 0.29.2 and
scikit-learn), timed by bench/run.sh with BENCH_PEERS=1. The MNIST files are
read by bench/mnist_idx.py, shared with bench/jax_reference.py.

Pipelines:
  default    the original's: a Dataset returning per-sample tensors through
             ToTensor + Normalize((0.1307,), (0.3081,)); sklearn's
             train_test_split applied to that Dataset (as the original does,
             which turns both parts into lists of transformed samples);
             DataLoader(batch, shuffle=True) for training, shuffle=False for
             validation and test.
  --preload  the images held as one normalised float tensor; batches are
             sliced from it (same split, same shuffling order).
--golden FILE writes the PyTorch side of the Go golden test instead of
training (`make torch-golden`; see mnistfc/torchcompat/torchcompat_test.go).
The loop itself is the original's: autograd left on during validation and
test, per-row copies of the outputs to numpy, torch.cuda.empty_cache() per
batch. --lean drops those (torch.no_grad() for evaluation, no per-row copies)
to show what idiomatic PyTorch would do; it is not the original's loop.

Threads: --threads sets torch.set_num_threads. Debian's torch also multiplies
matrices in OpenBLAS's own thread pool; that pool gets 1 thread unless
--blas-threads or $OPENBLAS_NUM_THREADS says otherwise (two pools of 2 threads
on 2 cores made epochs 2-3x slower here). Time it on an idle machine: with
--threads 2, libgomp's spinning threads made epochs ~20x slower (0.4 s -> 7 s)
while another process kept one of the 2 cores busy (OMP_WAIT_POLICY=PASSIVE
avoids that but costs ~30% on an idle machine; --threads 1 avoids it too).
"""
import time

T0 = time.perf_counter()

import argparse
import copy
import enum
import json
import os
import sys

EXIT_USAGE = 2


def _blas_threads_from_argv(argv):
    """--blas-threads N from argv (before torch is imported), or None."""
    for i, a in enumerate(argv):
        if a == "--blas-threads" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith("--blas-threads="):
            return a.split("=", 1)[1]
    return None


# Debian's python3-torch does its matrix products in OpenBLAS's own pthread
# pool, on top of torch's OpenMP threads (--threads): with both at 2 on 2
# cores they fight (measured 2-3x slower epochs). So OpenBLAS gets 1 thread
# unless --blas-threads or $OPENBLAS_NUM_THREADS says otherwise. It must be
# set before torch (and so OpenBLAS) is loaded.
_bt = _blas_threads_from_argv(sys.argv[1:])
if _bt is not None:
    if _bt.isdigit() and int(_bt) > 0:
        os.environ["OPENBLAS_NUM_THREADS"] = _bt
    elif _bt.isdigit():
        os.environ.pop("OPENBLAS_NUM_THREADS", None)
elif not os.environ.get("OPENBLAS_NUM_THREADS"):
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
BLAS_THREADS = os.environ.get("OPENBLAS_NUM_THREADS", "")


def fail(msg):
    print(f"torch_reference.py: error: {msg}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, Dataset
except ImportError as e:  # pragma: no cover - depends on the machine
    fail(f"{e}; run bench/install-torch.sh and use /usr/bin/python3 (Debian's python3-torch)")

# The MNIST files: bench/mnist_idx.py (shared with bench/jax_reference.py).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_idx import FILES, GOMNIST, GOMNIST_MOD, MEAN, STD, add_common_args, check_common_args, load_mnist, run_summary  # noqa: E402,F401


# ---------------------------------------------------------------- arguments

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="torch_reference.py",
        description="PyTorch reference of the original MNIST fully-connected notebook loop.")
    add_common_args(p)
    p.add_argument("--softmax", default="row", choices=["row", "batch"],
                   help="row: correct per-row softmax; batch: the original's normalisation over the batch axis")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="torch device (default cpu)")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="OpenBLAS threads (Debian's torch); 0 = OpenBLAS's own default "
                        "(default $OPENBLAS_NUM_THREADS, else 1)")
    p.add_argument("--preload", action="store_true",
                   help="hold the data as normalised tensors and slice batches from them")
    p.add_argument("--lean", action="store_true",
                   help="not the original loop: no autograd in evaluation, no per-row output copies")
    p.add_argument("--golden", metavar="FILE", default=None,
                   help="instead of training: write the golden data of mnistfc/torchcompat/torchcompat_test.go to FILE "
                        "(initial weights, batch orders, per-step loss and accuracy of epoch 1 and its "
                        "validation loss and accuracy, for both softmaxes; fixed split: the first "
                        "training images train, the last ceil(val-ratio*60000) validate; --hidden, "
                        "--lr, --batch, --seed apply)")
    a = p.parse_args(argv)
    check_common_args(p, a)
    if a.blas_threads is not None and a.blas_threads < 0:
        p.error(f"--blas-threads must be >= 0, got {a.blas_threads}")
    if a.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: torch.cuda.is_available() is False on this machine")
    return a


# ---------------------------------------------------------------- data

class MNISTImages(Dataset):
    """Like torchvision.datasets.MNIST: a PIL image per sample through the transform."""

    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        from PIL import Image
        img = Image.fromarray(self.images[i], mode="L")
        return self.transform(img), int(self.labels[i])


class PreloadedLoader:
    """Batches sliced from resident tensors, in the order a DataLoader would use.

    It draws from torch's global generator exactly as DataLoader (num_workers=0)
    with RandomSampler/SequentialSampler does in torch 1.13, so that both
    pipelines see the same batches.
    """

    def __init__(self, x, y, batch, shuffle):
        self.x, self.y, self.batch, self.shuffle = x, y, batch, shuffle

    def __len__(self):
        return (len(self.x) + self.batch - 1) // self.batch

    def __iter__(self):
        torch.empty((), dtype=torch.int64).random_()  # the iterator's base seed
        n = len(self.x)
        if self.shuffle:
            g = torch.Generator()
            g.manual_seed(int(torch.empty((), dtype=torch.int64).random_().item()))
            order = torch.randperm(n, generator=g)
        for start in range(0, n, self.batch):
            if self.shuffle:
                idx = order[start:start + self.batch]
                yield self.x.index_select(0, idx), self.y.index_select(0, idx)
            else:
                yield self.x[start:start + self.batch], self.y[start:start + self.batch]


def make_loaders(d, args):
    from sklearn.model_selection import train_test_split
    if args.preload:
        def norm(images):
            return ((torch.from_numpy(images.astype(np.float32)) / 255.0 - MEAN) / STD).reshape(-1, 1, 28, 28)
        x, y = norm(d["train_images"]), torch.from_numpy(d["train_labels"].astype(np.int64))
        tr, va = train_test_split(np.arange(len(x)), test_size=args.val_ratio, random_state=args.seed)
        tr, va = torch.from_numpy(tr), torch.from_numpy(va)
        train = PreloadedLoader(x[tr].contiguous(), y[tr].contiguous(), args.batch, True)
        val = PreloadedLoader(x[va].contiguous(), y[va].contiguous(), args.batch, False)
        test = PreloadedLoader(norm(d["test_images"]), torch.from_numpy(d["test_labels"].astype(np.int64)),
                               args.batch, False)
        return train, val, test
    from torchvision import transforms
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    dataset = MNISTImages(d["train_images"], d["train_labels"], tf)
    # As in the original: train_test_split on the Dataset itself (lists of samples).
    train_set, val_set = train_test_split(dataset, test_size=args.val_ratio, random_state=args.seed)
    test_set = MNISTImages(d["test_images"], d["test_labels"], tf)
    return (DataLoader(train_set, args.batch, shuffle=True),
            DataLoader(val_set, args.batch, shuffle=False),
            DataLoader(test_set, args.batch, shuffle=False))


# ---------------------------------------------------------------- model

def sigmoid(x):
    return 1 / (1 + torch.exp(-x))


def softmax_row(x):
    x = x - x.max(dim=1, keepdim=True).values
    e = torch.exp(x)
    return e / e.sum(dim=1, keepdim=True)


def softmax_batch(x):
    # The original: row max subtracted for stability, then exp(x) / sum(exp(x))
    # with Python's sum over a 2-D tensor, i.e. a sum over the batch axis.
    x = x - x.max(dim=1, keepdim=True).values
    e = torch.exp(x)
    return e / e.sum(dim=0)


def cross_entropy_error(y, t):
    """Mean over the batch of -sum(t * log y); t one-hot."""
    return -torch.sum(t * torch.log(y)) / y.shape[0]


def get_accuracy(y, t):
    truth = torch.argmax(t, dim=1).cpu().numpy()
    pred = torch.argmax(y, dim=1).cpu().numpy()
    return float((truth == pred).sum() / y.shape[0])


class FullyConnected(nn.Module):
    def __init__(self, hidden, softmax):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, 10)
        self.softmax = softmax

    def forward(self, x):
        x = torch.flatten(x, start_dim=1)
        return self.softmax(self.fc2(sigmoid(self.fc1(x))))


# ---------------------------------------------------------------- golden data

GOLDEN_COMMAND = "make torch-golden"  # = /usr/bin/python3 bench/torch_reference.py --golden mnistfc/torchcompat/testdata/torch_golden.json


def cpu_capability():
    """The CPU kernels torch dispatches to: DEFAULT, AVX2, AVX512 (ATEN_CPU_CAPABILITY can force one)."""
    try:
        return str(torch.backends.cpu.get_cpu_capability())
    except AttributeError:  # torch < 2.0
        for line in torch.__config__.show().splitlines():
            if "CPU capability usage:" in line:
                return line.split(":", 1)[1].strip()
    return "unknown"


class IndexedImages(Dataset):
    """Preloaded normalised images whose samples also carry their index, to record the batch order."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], self.y[i], i


def _sha256(array):
    import hashlib
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _tensor_summary(t):
    v = t.detach().cpu().contiguous().numpy().astype("<f4").ravel()
    return {"shape": list(t.shape), "sha256": _sha256(v),
            "first": [float(a) for a in v[:8]], "last": [float(a) for a in v[-4:]]}


def _order_summary(epoch, idx):
    v = np.asarray(idx, dtype="<i8")
    return {"epoch": epoch, "n": len(v), "sha256": _sha256(v),
            "first": [int(a) for a in v[:20]], "last": [int(a) for a in v[-5:]]}


def write_golden(args, d):
    """The data of the golden test (mnistfc/torchcompat/torchcompat_test.go): what PyTorch does, on the CPU, with a fixed split.

    The original loop's structure is kept where it moves torch's global
    generator: torch.manual_seed, then the model, then per epoch one pass over
    the shuffled training DataLoader and one over the validation DataLoader.
    """
    from torch.utils.data import Subset
    images, labels = d["train_images"], d["train_labels"]
    n = len(images)
    n_val = int(np.ceil(args.val_ratio * n))
    n_train = n - n_val
    x = ((torch.from_numpy(images.astype(np.float32)) / 255.0 - MEAN) / STD).reshape(-1, 1, 28, 28)
    y = torch.from_numpy(labels.astype(np.int64))
    full = IndexedImages(x, y)
    train_loader = DataLoader(Subset(full, range(n_train)), args.batch, shuffle=True)
    val_loader = DataLoader(Subset(full, range(n_train, n)), args.batch, shuffle=False)
    order_epochs = 3
    out = {
        "generated_by": GOLDEN_COMMAND,
        "torch": torch.__version__,
        "cpu_capability": cpu_capability(),
        "seed": args.seed, "hidden": args.hidden, "lr": args.lr, "batch": args.batch,
        "train": f"training images [0, {n_train})", "validation": f"training images [{n_train}, {n})",
        "n_train": n_train, "n_val": n_val,
        "normalisation": f"(pixel/255 - {MEAN}) / {STD}",
    }
    steps, validation = {}, {}
    for mode, softmax in (("row", softmax_row), ("batch", softmax_batch)):
        torch.manual_seed(args.seed)
        model = FullyConnected(args.hidden, softmax)
        if mode == "row":
            out["init"] = {name: _tensor_summary(t) for name, t in (
                ("W1", model.fc1.weight), ("B1", model.fc1.bias), ("W2", model.fc2.weight), ("B2", model.fc2.bias))}
        optimizer = torch.optim.SGD(model.parameters(), args.lr)
        orders, records = [], []
        for epoch in range(1, order_epochs + 1):
            order = []
            for inputs, targets, idx in train_loader:
                order.extend(idx.tolist())
                if epoch > 1:
                    continue  # Later epochs: only the order (training draws no random numbers).
                optimizer.zero_grad()
                outputs = model(inputs)
                t = F.one_hot(targets, num_classes=10)
                loss = cross_entropy_error(outputs, t)
                loss.backward()
                optimizer.step()
                records.append({"step": len(records) + 1, "loss": loss.item(), "accuracy": get_accuracy(outputs, t)})
            orders.append(_order_summary(epoch, order))
            # The validation pass: its iterator draws a base seed, as the original's does.
            val_losses, val_accs = [], []
            with torch.no_grad():
                for inputs, targets, _ in val_loader:
                    if epoch > 1:
                        continue
                    outputs = model(inputs)
                    t = F.one_hot(targets, num_classes=10)
                    val_losses.append(cross_entropy_error(outputs, t).item())
                    val_accs.append(get_accuracy(outputs, t))
            if epoch == 1:
                validation[mode] = {"epoch": 1, "loss": float(np.mean(val_losses)),
                                    "accuracy": float(np.mean(val_accs))}
        steps[mode] = records
        if mode == "row":
            out["orders"] = orders
        elif orders != out["orders"]:
            fail("the batch orders differ between the two runs")
    out["steps"] = steps
    out["epoch1_validation"] = validation
    os.makedirs(os.path.dirname(os.path.abspath(args.golden)), exist_ok=True)
    with open(args.golden, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {args.golden}: torch {torch.__version__}, CPU capability {out['cpu_capability']}, "
          f"{len(steps['row'])} steps per softmax, first loss {steps['row'][0]['loss']:.6f} (row), "
          f"{steps['batch'][0]['loss']:.6f} (batch)", flush=True)
    return 0


# ---------------------------------------------------------------- loop

class Mode(enum.Enum):
    training = 0
    validation = 1
    test = 2


def forward_one_epoch(loader, optimizer, net, mode, device, lean):
    losses, accuracies = [], []
    all_preds, all_targets = [], []
    for inputs, targets in loader:
        if mode == Mode.training:
            optimizer.zero_grad()
        inputs, targets = inputs.to(device), targets.to(device)
        outputs = net(inputs)
        targets = F.one_hot(targets, num_classes=10)
        loss = cross_entropy_error(outputs, targets)
        losses.append(loss.item())
        if mode == Mode.training:
            loss.backward()
            optimizer.step()
        accuracies.append(get_accuracy(outputs, targets))
        if not lean:
            # The original keeps every target and prediction, one row at a time.
            all_targets.extend(targets.cpu().data.numpy())
            rows = [row.cpu().data.numpy() for row in outputs]
            all_preds.extend(np.argmax(rows, axis=1))
            del inputs, targets, outputs
            torch.cuda.empty_cache()
    return losses, accuracies


def evaluate(loader, net, mode, device, lean):
    if lean:
        with torch.no_grad():
            return forward_one_epoch(loader, None, net, mode, device, lean)
    return forward_one_epoch(loader, None, net, mode, device, lean)


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def main(argv):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    folder, d = load_mnist(args.data)
    if args.golden:
        return write_golden(args, d)
    train_loader, val_loader, test_loader = make_loaders(d, args)
    t_data = time.perf_counter()
    say(f"Data from {folder}: {len(d['train_images'])} training images "
        f"({args.val_ratio:g} for validation), {len(d['test_images'])} test images; "
        f"{'preloaded tensors' if args.preload else 'original Dataset/DataLoader pipeline'}; "
        f"{time.perf_counter() - T0:.2f} s so far")

    torch.manual_seed(args.seed)
    if args.device == "cuda":
        torch.cuda.manual_seed_all(args.seed)
    device = args.device
    model = FullyConnected(args.hidden, softmax_row if args.softmax == "row" else softmax_batch).to(device)
    optimizer = torch.optim.SGD(model.parameters(), args.lr)
    say(f"Training hidden {args.hidden}, lr {args.lr:g}, {args.epochs} epochs, softmax {args.softmax}, "
        f"device {device}, {args.threads} threads (OpenBLAS {BLAS_THREADS or 'default'}), torch {torch.__version__}")

    best_acc, best_epoch, best_model = -1.0, 0, None
    epoch_seconds = []
    last = {}
    sync(device)
    t_train = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t_epoch = time.perf_counter()
        model.train()
        losses, accs = forward_one_epoch(train_loader, optimizer, model, Mode.training, device, args.lean)
        train_acc, train_loss = float(np.mean(accs)), float(np.mean(losses))
        say(f"Train epoch {epoch}: accuracy {train_acc}, loss {train_loss}")

        model.eval()
        losses, accs = evaluate(val_loader, model, Mode.validation, device, args.lean)
        val_acc_raw, val_loss = float(np.mean(accs)), float(np.mean(losses))
        val_acc = float(np.round(val_acc_raw, 3))
        say(f"Validation epoch {epoch}: accuracy {val_acc}, loss {val_loss}")
        if best_acc + 0.001 < val_acc:
            best_acc, best_epoch = val_acc, epoch
            say(f"==== new best model! epoch {epoch}, accuracy {val_acc} ====")
            best_model = copy.deepcopy(model)
        sync(device)
        epoch_seconds.append(time.perf_counter() - t_epoch)
        last = dict(train_acc=train_acc, train_loss=train_loss, val_acc=val_acc_raw, val_loss=val_loss)
    train_seconds = time.perf_counter() - t_train

    losses, accs = evaluate(test_loader, best_model, Mode.test, device, args.lean)
    test_acc, test_loss = float(np.mean(accs)), float(np.mean(losses))
    sync(device)
    total = time.perf_counter() - T0
    say("===== Test Results =====")
    say(f"Test Accuracy : {test_acc}")
    say(f"Test Loss : {test_loss}")
    say(f"Best val accuracy was {best_acc}, at epoch {best_epoch}")
    say(f"{train_seconds / args.epochs:.3f} s per epoch (train + validation); {total:.2f} s in all")
    if args.json:
        print(json.dumps({
            "impl": "pytorch",
            "device": device,
            "threads": args.threads,
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
            "blas_threads": int(BLAS_THREADS) if BLAS_THREADS.isdigit() else 0,
            "preload": args.preload,
            "lean": args.lean,
            "hidden": args.hidden,
            "lr": args.lr,
            "epochs": args.epochs,
            "batch": args.batch,
            "softmax": args.softmax,
            "seed": args.seed,
            "seconds_per_epoch": train_seconds / args.epochs,
            **run_summary(epoch_seconds, t_data - T0, train_seconds, total, best_epoch, best_acc, last,
                          test_acc, test_loss),
            "torch": torch.__version__,
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
