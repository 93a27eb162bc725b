"""Runs a command in a bubblewrap sandbox, for the grader (scripts/grade.py).

What a sandboxed command sees and may do:

  * no network (a new network namespace: only its own loopback);
  * its own process namespace: when the command ends or hits a limit,
    every process it started is killed with it;
  * read-only: /usr, the Go toolchain and module cache, the Python of the
    notebook tools, and the repository, less what a student must not read
    (the solution notebook, every other notebook folder, the published
    reports, .git, out/, the teacher's hidden checks, other submissions);
  * writable: only its scratch folder (thrown away afterwards) and a
    /tmp of --disk MB in memory;
  * an unprivileged user: run by root, it drops to a user id of its own
    (no capabilities, no new privileges: setuid programs do not elevate);
    run by another user, bubblewrap maps that user into a user namespace;
  * limits: wall time, memory (cgroup, when the grader runs as root and
    cgroup v1 or v2 memory and pids controllers are writable; otherwise
    address space per process), processes, file size.

Status of a run: "ok", "error" (non-zero exit), "time-limit",
"memory-limit", "process-limit", "output-limit".
"""

import dataclasses
import os
import shutil
import signal
import subprocess
import threading
import time

INSTALL = "sudo apt-get install bubblewrap    # Debian, Ubuntu; Fedora: sudo dnf install bubblewrap"


# What a program says when an address-space or process limit stops it
# (Go, Python, C, the shell), lower case.
MEMORY_MARKS = (b"out of memory", b"cannot allocate memory", b"memoryerror", b"std::bad_alloc")
PROCESS_MARKS = (b"resource temporarily unavailable", b"cannot fork", b"failed to create new os thread", b"pthread_create failed")


@dataclasses.dataclass
class Limits:
    seconds: float = 900
    memory_mb: int = 6144
    processes: int = 512
    disk_mb: int = 1024       # /tmp in memory, and the largest file
    output_mb: float = 8      # what the grader reads back


@dataclasses.dataclass
class Result:
    status: str
    returncode: int
    seconds: float
    stdout: bytes
    stderr: bytes


def available():
    """None when bubblewrap can make a sandbox here, else why not."""
    if not shutil.which("bwrap"):
        return "bubblewrap (bwrap) is not installed: %s" % INSTALL
    try:
        r = subprocess.run(["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
                            "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                            "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "bubblewrap does not run: %s" % e
    if r.returncode != 0:
        return "bubblewrap cannot make a sandbox here (%s): user namespaces may be off (sysctl kernel.unprivileged_userns_clone=1)" % (
            r.stderr.decode(errors="replace").strip())
    return None


class Cgroup:
    """A memory and pids cgroup (v1 or v2) for one run, when writable."""

    def __init__(self, name, limits, enabled=True):
        self.dirs = {}
        if os.geteuid() != 0 or not enabled:
            return
        v2 = "/sys/fs/cgroup/cgroup.controllers"
        try:
            if os.path.exists(v2):
                d = "/sys/fs/cgroup/%s" % name
                os.mkdir(d)
                self._write(d, "memory.max", limits.memory_mb << 20)
                self._write(d, "memory.swap.max", 0)
                self._write(d, "pids.max", limits.processes)
                self.dirs = {"v2": d}
            elif os.path.isdir("/sys/fs/cgroup/memory") and os.path.isdir("/sys/fs/cgroup/pids"):
                mem, pids = "/sys/fs/cgroup/memory/%s" % name, "/sys/fs/cgroup/pids/%s" % name
                os.mkdir(mem)
                self.dirs["memory"] = mem
                os.mkdir(pids)
                self.dirs["pids"] = pids
                self._write(mem, "memory.limit_in_bytes", limits.memory_mb << 20)
                self._write(pids, "pids.max", limits.processes)
        except OSError:
            self.close()
            self.dirs = {}

    @staticmethod
    def _write(d, f, v):
        with open(os.path.join(d, f), "w") as fh:
            fh.write(str(v))

    @staticmethod
    def _read(d, f):
        try:
            with open(os.path.join(d, f)) as fh:
                return fh.read()
        except OSError:
            return ""

    def procs_files(self):
        return [os.path.join(d, "cgroup.procs") for d in self.dirs.values()]

    def hit(self):
        """"memory-limit", "process-limit" or None."""
        if "v2" in self.dirs:
            d = self.dirs["v2"]
            if any(l.split()[0] in ("oom", "oom_kill") and int(l.split()[1]) > 0 for l in self._read(d, "memory.events").splitlines()):
                return "memory-limit"
            if any(l.startswith("max ") and int(l.split()[1]) > 0 for l in self._read(d, "pids.events").splitlines()):
                return "process-limit"
            return None
        if "memory" in self.dirs and int(self._read(self.dirs["memory"], "memory.failcnt") or 0) > 0:
            return "memory-limit"
        if "pids" in self.dirs and any(l.startswith("max ") and int(l.split()[1]) > 0
                                       for l in self._read(self.dirs["pids"], "pids.events").splitlines()):
            return "process-limit"
        return None

    def kill(self):
        for d in self.dirs.values():
            for pid in self._read(d, "cgroup.procs").split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass

    def close(self):
        for d in self.dirs.values():
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    self.kill()
                    time.sleep(0.1)


class Sandbox:
    """bubblewrap's command line for the runs of one submission."""

    def __init__(self, root, scratch, hidden=(), readonly=(), uid=None, limits=None):
        self.root = os.path.abspath(root)
        self.scratch = scratch
        self.hidden = [os.path.abspath(h) for h in hidden]
        self.readonly = [os.path.abspath(r) for r in readonly]
        self.uid = uid if uid is not None else 61000 + os.getpid() % 1000
        self.limits = limits or Limits()
        self.extra = []      # more bubblewrap arguments, after the hidden paths
        self.writable = []   # paths bound read-write, at their own path
        self.unsafe = False  # run without bubblewrap (grade.py --unsafe)
        if os.geteuid() == 0:
            os.chown(scratch, self.uid, self.uid)

    def _dirs(self, path, args, made):
        """--dir for the parents of path, readable by the sandbox's user."""
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            if d not in made and d not in ("/usr", "/tmp", "/proc", "/dev"):
                made.add(d)
                args += ["--perms", "0755", "--dir", d]

    def command(self, argv, env, cwd=None):
        if self.unsafe:
            return ["env", "-i"] + ["%s=%s" % kv for kv in sorted(env.items())] + ["sh", "-c", 'cd "$0" && exec "$@"', cwd or self.scratch] + list(argv)
        made = set()
        args = ["bwrap", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session", "--hostname", "sandbox", "--clearenv",
                "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
                "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                "--perms", "0755", "--dir", "/etc", "--ro-bind-try", "/etc/alternatives", "/etc/alternatives", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
                "--ro-bind-try", "/etc/localtime", "/etc/localtime", "--ro-bind-try", "/etc/mime.types", "/etc/mime.types",
                "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(self.limits.disk_mb << 20), "--tmpfs", "/tmp"]
        for path in sorted(set(self.readonly + [self.root])):
            if os.path.exists(path):
                self._dirs(path, args, made)
                args += ["--ro-bind", path, path]
        for path in self.hidden:
            if os.path.isdir(path):
                args += ["--tmpfs", path]
            elif os.path.exists(path):
                args += ["--ro-bind", "/dev/null", path]
        args += self.extra
        for path in self.writable:
            self._dirs(path, args, made)
            args += ["--bind", path, path]
        self._dirs(self.scratch, args, made)
        args += ["--bind", self.scratch, self.scratch, "--chdir", cwd or self.scratch]
        for path in self.hidden:
            if os.path.isdir(path):
                args += ["--remount-ro", path]
        for k, v in sorted(env.items()):
            args += ["--setenv", k, v]
        prlimit = ["prlimit", "--nproc=%d" % self.limits.processes, "--fsize=%d" % (self.limits.disk_mb << 20), "--core=0"]
        if os.geteuid() == 0:
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP", "--",
                     "setpriv", "--reuid", str(self.uid), "--regid", str(self.uid), "--clear-groups",
                     "--inh-caps=-all", "--bounding-set=-all", "--"] + prlimit
        else:
            args += ["--unshare-user", "--disable-userns", "--"] + prlimit + ["--as=%d" % (self.limits.memory_mb << 20)]
        return args + ["--"] + list(argv)

    def run(self, argv, env, stdin=None, pass_fds=(), seconds=None, name="grade", cwd=None):
        """Runs argv in the sandbox, in cwd (default: the scratch folder);
        returns a Result. Its output is read up to the output limit; past
        it, the run is stopped with "output-limit"."""
        seconds = seconds or self.limits.seconds
        cg = Cgroup("mnistfc-%s-%d-%d" % (name, os.getpid(), time.monotonic_ns() % 10**9), self.limits, enabled=not self.unsafe)
        cmd = self.command(argv, env, cwd)
        if cg.dirs:
            # Join the cgroups before bubblewrap starts, so that every
            # process of the run is in them.
            joins = " ".join("echo $$ > %s &&" % f for f in cg.procs_files())
            cmd = ["sh", "-c", joins + ' exec "$@"', "sh"] + cmd
        start = time.monotonic()
        status = "ok"
        cap = int(self.limits.output_mb * (1 << 20))
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                pass_fds=pass_fds, start_new_session=True)
        kept = {"out": bytearray(), "err": bytearray(), "flood": False}

        def drain(stream, key):
            while True:
                chunk = stream.read(65536)
                if not chunk:
                    return
                if len(kept[key]) < cap:
                    kept[key] += chunk[:cap - len(kept[key])]
                else:
                    kept["flood"] = True
                    stop()

        def stop():
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            cg.kill()

        readers = [threading.Thread(target=drain, args=(proc.stdout, "out"), daemon=True),
                   threading.Thread(target=drain, args=(proc.stderr, "err"), daemon=True)]
        for t in readers:
            t.start()
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            status = "time-limit"
            stop()
            proc.wait()
        for t in readers:
            t.join(5)
        out, err = bytes(kept["out"]), bytes(kept["err"])
        if kept["flood"] and status == "ok":
            status = "output-limit"
        elapsed = time.monotonic() - start
        if status == "ok":
            status = cg.hit() or ("ok" if proc.returncode == 0 else "error")
            # Without cgroups (not root), a limit shows in what failed.
            tail = err[-4096:].lower()
            if status == "error" and any(m in tail for m in MEMORY_MARKS):
                status = "memory-limit"
            elif status == "error" and any(m in tail for m in PROCESS_MARKS):
                status = "process-limit"
        cg.close()
        return Result(status, proc.returncode, elapsed, out, err)


def self_test():
    """Hostile commands against the sandbox: each is contained, and hits its
    limit with its status. Needs bubblewrap."""
    import socket
    import sys
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    problems = []

    def expect(ok, what):
        print("sandbox: %s %s" % ("ok  " if ok else "FAIL", what), flush=True)
        if not ok:
            problems.append(what)

    why = available()
    if why:
        print("sandbox: %s" % why, file=sys.stderr)
        return 1
    scratch = tempfile.mkdtemp(prefix="mnistfc-sandbox-test-")
    os.chmod(scratch, 0o755)
    solution = os.path.join(root, "notebooks", "mnist_fc.ipynb")
    box = Sandbox(root, scratch, hidden=[os.path.join(root, d) for d in (".git", "notebooks", "docs", "out")],
                  limits=Limits(seconds=20, memory_mb=256, processes=64, disk_mb=64, output_mb=1))
    env = {"PATH": "/usr/bin:/bin", "HOME": scratch}

    def sh(script, **kw):
        return box.run(["sh", "-c", script], env, **kw)

    r = sh("id -u; touch %s/PWNED; echo x >> %s/README.md" % (root, root))
    expect(not os.path.exists(os.path.join(root, "PWNED")) and r.status == "error", "the repository is read-only (%s)" % r.status)
    if os.geteuid() == 0:
        expect(r.stdout.split()[0] != b"0", "an unprivileged user, not root (uid %s)" % r.stdout.split()[:1])
    r = sh("cat %s; ls %s/.git | wc -l" % (solution, root))
    expect(b'"cells"' not in r.stdout and r.stdout.strip().endswith(b"0"), "the solution notebook and .git are hidden")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    r = box.run(["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', %d), timeout=3); print('connected')" % port], env)
    server.close()
    expect(b"connected" not in r.stdout and r.status == "error", "no network: the grader's loopback port is unreachable")
    r = box.run(["python3", "-c", "b = bytearray(1 << 30); print(len(b))"], env)
    expect(r.status == "memory-limit", "1 GB with a limit of 256 MB: %s" % r.status)
    r = sh("for i in $(seq 200); do sleep 5 & done; wait")
    expect(r.status == "process-limit", "200 processes with a limit of 64: %s" % r.status)
    start = time.monotonic()
    r = box.run(["sh", "-c", "sleep 1000 & while :; do :; done"], env, seconds=3)
    left = subprocess.run(["pgrep", "-f", "sleep 1000"], capture_output=True).stdout.strip()
    expect(r.status == "time-limit" and time.monotonic() - start < 15 and not left, "an endless loop stops at the time limit, with its children")
    r = box.run(["yes"], env)
    expect(r.status == "output-limit" and len(r.stdout) <= 1 << 20, "an output flood stops at the output limit: %s" % r.status)
    r = sh("dd if=/dev/zero of=/tmp/big bs=1M count=200 2>/dev/null && echo written; ls -s /tmp/big")
    expect(b"written" not in r.stdout, "writing 200 MB with a disk limit of 64 MB fails (%s)" % r.stdout.decode(errors="replace").strip())
    shutil.rmtree(scratch, ignore_errors=True)
    print("sandbox: %d of 9 hostile commands not contained" % len(problems) if problems else "sandbox: every hostile command contained")
    return 1 if problems else 0


if __name__ == "__main__":
    import sys
    sys.exit(self_test() if sys.argv[1:] == ["--self-test"] else 2)
