"""`heapsnap capture --pid`: attach to a running CPython that was started without heapsnap.

On every interpreter the capture was built for: a busy target (computing in Python, a second
thread allocating) and an idle one (one thread blocked in read(2) on stdin) are captured, keep
running afterwards and stop with the checksum of correct work, and their snapshots hold what
they hold (the Marker made at start, with its path, and the Sessions leaked so far). Then each
refusal: no such process, not Python, stopped, traced, another user, an unwritable directory,
no capture module, no gdb, no safe point and no GIL within the timeout.

Skipped, with the reason printed, where this machine does not let gdb attach (ptrace)."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import (BUILD, FIXTURES, HEAPSNAP, INTERPRETERS, heapsnap, heapsnap_json, run,
                      wait_for)

sys.path.insert(0, FIXTURES)
import service  # noqa: E402  (expected_checksum: what a healthy service prints)

SERVICE = os.path.join(FIXTURES, "service.py")
LIB = os.path.join(BUILD, "lib", "heapsnap")
STOPPED = re.compile(r"service stopped: ticks=(\d+) leaked=(\d+) checksum=(\d+)")


def ptrace_problem():
    """Why gdb cannot attach here, or None: tried on a dummy process."""
    gdb = shutil.which("gdb")
    if gdb is None:
        return "gdb is not installed"
    dummy = subprocess.Popen(["sleep", "60"])
    try:
        probe = run([gdb, "-batch", "-nx", "-nw", "-p", str(dummy.pid), "-ex", "info threads"],
                    timeout=60)
        if "ptrace:" in probe.stdout + probe.stderr or "Thread" not in probe.stdout:
            return "gdb cannot attach to a process here: %s" % (probe.stderr.strip()
                                                                or probe.stdout.strip())
        return None
    finally:
        dummy.kill()
        dummy.wait()


PTRACE_PROBLEM = ptrace_problem()
if PTRACE_PROBLEM:
    print("test_attach: skipped: %s" % PTRACE_PROBLEM, file=sys.stderr)
pytestmark = pytest.mark.skipif(PTRACE_PROBLEM is not None, reason=str(PTRACE_PROBLEM))


def proc_state(pid):
    with open("/proc/%d/status" % pid) as f:
        return re.search(r"^State:\s+(\S)", f.read(), re.M).group(1)


class Service:
    """fixtures/service.py running in the background, as a test's target."""

    def __init__(self, python, mode, state_dir, *options, user=None):
        self.mode = mode
        self.state_path = os.path.join(str(state_dir), "state-%s.json" % mode)
        command = [python, SERVICE, mode, self.state_path] + list(options)
        if user is not None:
            command = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + command
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.pid = self.process.pid
        wait_for(lambda: os.path.exists(self.state_path), "the service's first state")

    def state(self):
        with open(self.state_path) as f:
            return json.load(f)

    def command(self, line):
        """Idle mode: a command on stdin, answered by "ok WORD" once done."""
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer == "ok %s\n" % line.split()[0], "the service answered %r" % answer

    def stop(self):
        """Stops it and checks that it did correct work all along."""
        if self.mode == "idle":
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
        else:
            self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, (out, err)
        stopped = STOPPED.findall(out)
        assert stopped, "no 'service stopped' line: %r %r" % (out, err)
        ticks, leaked, checksum = map(int, stopped[-1])
        assert checksum == service.expected_checksum(ticks), (out, err)
        return ticks, leaked

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@pytest.fixture
def services():
    started = []

    def start(*args, **kwargs):
        started.append(Service(*args, **kwargs))
        return started[-1]

    yield start
    for s in started:
        if s.process.poll() is None:
            os.kill(s.pid, signal.SIGCONT)
            s.kill()


def attach(pid, output, *options, check=True, env=None):
    started = time.monotonic()
    result = heapsnap("capture", "--pid", pid, "-o", output, *options, check=check, env=env)
    return result, time.monotonic() - started


def check_snapshot(snapshot, state, sessions_at_least):
    """The snapshot holds what the target holds: the Marker, with its path, and the Sessions."""
    marker = state["marker"]
    found = heapsnap_json("objects", snapshot, "--id", marker)["objects"]
    assert len(found) == 1 and found[0]["qualtype"] == "__main__.Marker", found
    # The shortest path goes through __main__'s namespace: printed as sys.modules['__main__']
    # .MARKER, or through a running frame of service.py that holds that namespace (a root
    # closer than sys.modules): its f_locals (the <module> frame) or f_globals.
    path = heapsnap("path", snapshot, "--id", marker).stdout
    assert ("sys.modules['__main__'].MARKER" in path
            or re.search(r"^thread '\w+' \S+ \(.*service\.py:\d+\)\.f_(locals|globals)"
                         r"\['MARKER'\]$", path, re.M)), path
    # That namespace is the module's at sys.modules['__main__'].
    (holder,) = [r for r in found[0]["referrers"] if r["label"] == "['MARKER']"]
    namespace = heapsnap_json("objects", snapshot, "--id", holder["source"])["objects"][0]
    (module,) = [r for r in namespace["referrers"] if r["source_type"] == "module"]
    assert module["label"] == ".__dict__"
    module_path = heapsnap("path", snapshot, "--id", module["source"]).stdout
    assert module_path.startswith("sys.modules['__main__']\n"), module_path
    summary = heapsnap_json("summary", snapshot)
    assert summary["reason"] == "attach", summary
    header = heapsnap("summary", snapshot, "--top", "1").stdout.splitlines()[0]
    assert ", pid %d, captured by attaching (heapsnap capture --pid) " % state["pid"] in header
    sessions = [t for t in summary["types"] if t["type"] == "__main__.Session"]
    assert sessions and sessions[0]["count"] >= sessions_at_least, sessions
    assert oct(os.stat(snapshot).st_mode & 0o777) == "0o600"
    return sessions[0]["count"]


def test_attach_to_a_busy_service(python, tmp_path, services):
    target = services(python, "busy", tmp_path, "--leak-every", "0.05", "--per-tick", "5")
    wait_for(lambda: target.state()["leaked"] >= 20, "20 Sessions leaked")
    before = target.state()
    snapshot = tmp_path / "busy.heapsnap"
    result, seconds = attach(target.pid, snapshot)
    print("%s busy: attach took %.2f s; %s" % (python, seconds, result.stderr.strip()))
    assert "snapshot of process %d written to %s" % (target.pid, snapshot) in result.stderr
    assert proc_state(target.pid) not in "TtZX"  # running, not left stopped
    ticks = target.state()["ticks"]
    wait_for(lambda: target.state()["ticks"] > ticks, "ticks to advance after the attach")
    sessions = check_snapshot(str(snapshot), before, before["leaked"])
    assert sessions <= target.state()["leaked"]
    target.stop()


def test_attach_with_fork(python, tmp_path, services):
    """--pid --fork: a child of the target writes the snapshot; the target pauses for fork()
    only, goes on working, and the snapshot holds what it holds."""
    target = services(python, "busy", tmp_path, "--leak-every", "0.05", "--per-tick", "5")
    wait_for(lambda: target.state()["leaked"] >= 20, "20 Sessions leaked")
    before = target.state()
    snapshot = tmp_path / "forked.heapsnap"
    result, seconds = attach(target.pid, snapshot, "--fork")
    print("%s fork: attach took %.2f s; %s" % (python, seconds, result.stderr.strip()))
    pause = re.search(r"the program paused ([0-9.]+) ms \(fork\)", result.stderr)
    assert pause, result.stderr
    check_snapshot(str(snapshot), before, before["leaked"])
    ticks = target.state()["ticks"]
    wait_for(lambda: target.state()["ticks"] > ticks, "ticks to advance after the attach")
    target.stop()


def test_attach_to_an_idle_service(python, tmp_path, services):
    target = services(python, "idle", tmp_path)
    target.command("leak 3")
    before = target.state()
    snapshot = tmp_path / "idle.heapsnap"
    result, seconds = attach(target.pid, snapshot, "--timeout", "20")
    print("%s idle: attach took %.2f s; %s" % (python, seconds, result.stderr.strip()))
    assert check_snapshot(str(snapshot), before, 3) == 3
    # The read(2) it was blocked in goes on: it still answers, and works correctly.
    target.command("leak 5")
    assert target.state()["leaked"] == 8
    ticks, leaked = target.stop()
    assert (ticks, leaked) == (2, 8)


def test_attach_twice_and_without_values(tmp_path, services):
    """The injector stays loaded; a second attach loads it again (dlopen finds it) and works."""
    target = services(INTERPRETERS[-1], "idle", tmp_path)
    target.command("leak 2")
    attach(target.pid, tmp_path / "one.heapsnap")
    attach(target.pid, tmp_path / "two.heapsnap", "--no-values")
    marker = target.state()["marker"]
    one = heapsnap_json("objects", tmp_path / "one.heapsnap", "--id", marker)["objects"][0]
    two = heapsnap_json("objects", tmp_path / "two.heapsnap", "--id", marker)["objects"][0]
    assert one["qualtype"] == two["qualtype"] == "__main__.Marker"
    with open(tmp_path / "two.heapsnap", "rb") as f:
        assert b"heapsnap-service-marker" not in f.read()
    with open(tmp_path / "one.heapsnap", "rb") as f:
        assert b"heapsnap-service-marker" in f.read()
    target.command("leak 1")
    target.stop()


def test_attach_at_an_allocator_breakpoint(tmp_path, services):
    """Memray's way, which the attach takes when every thread is in the allocator or the
    loader: a busy process reaches a breakpoint at malloc or free at once."""
    target = services(INTERPRETERS[0], "busy", tmp_path)
    env = dict(os.environ, HEAPSNAP_ATTACH_BREAKPOINTS="1", HEAPSNAP_ATTACH_VERBOSE="1")
    result, _ = attach(target.pid, tmp_path / "bp.heapsnap", env=env)
    assert "heapsnap-attach: waiting" in result.stderr, result.stderr
    check_snapshot(str(tmp_path / "bp.heapsnap"), target.state(), 1)
    target.stop()


def refused(*args, env=None):
    result = heapsnap("capture", *args, check=False, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1, result.stderr  # one message
    return result.stderr


def test_no_such_process(tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    message = refused("--pid", gone.pid, "-o", tmp_path / "x.heapsnap")
    assert "no process with pid %d" % gone.pid in message
    assert not os.path.exists(tmp_path / "x.heapsnap")


def test_not_a_python_process(tmp_path):
    sleeper = subprocess.Popen(["sleep", "100"])
    try:
        message = refused("--pid", sleeper.pid, "-o", tmp_path / "x.heapsnap")
        assert "is not a CPython process" in message, message
        assert proc_state(sleeper.pid) not in "TtZX"  # detached, and not left stopped
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_stopped_process_is_refused_and_left_alone(tmp_path, services):
    target = services(INTERPRETERS[0], "idle", tmp_path)
    os.kill(target.pid, signal.SIGSTOP)
    wait_for(lambda: proc_state(target.pid) == "T", "the target to stop")
    message = refused("--pid", target.pid, "-o", tmp_path / "x.heapsnap")
    assert "is stopped" in message and "kill -CONT %d" % target.pid in message, message
    assert proc_state(target.pid) == "T"
    os.kill(target.pid, signal.SIGCONT)
    target.command("leak 1")
    target.stop()


def test_a_traced_process_is_refused(tmp_path, services):
    target = services(INTERPRETERS[0], "idle", tmp_path)
    tracer = subprocess.Popen(["gdb", "-batch", "-nx", "-p", str(target.pid), "-ex",
                               "shell sleep 3"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: "TracerPid:\t0\n" not in open("/proc/%d/status" % target.pid).read(),
                 "gdb to attach")
        message = refused("--pid", target.pid, "-o", tmp_path / "x.heapsnap")
        assert "already being traced by process" in message, message
    finally:
        tracer.wait(timeout=60)
    target.command("leak 1")
    target.stop()


def test_gdb_missing(tmp_path, services):
    target = services(INTERPRETERS[0], "idle", tmp_path)
    env = dict(os.environ, PATH="/nonexistent")
    message = refused("--pid", target.pid, "-o", tmp_path / "x.heapsnap", env=env)
    assert "gdb is not installed" in message and "apt-get install gdb" in message, message
    target.stop()


@pytest.fixture
def open_dir():
    """A directory outside pytest's private tmp (0700): another user's process works in it."""
    path = tempfile.mkdtemp(prefix="heapsnap-attach-test-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path)


def sub_dir(parent, name, mode):
    path = os.path.join(parent, name)
    os.mkdir(path)
    os.chmod(path, mode)
    return path


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the target as another user")
def test_other_users_and_unwritable_directories(tmp_path, services, open_dir):
    """A target running as nobody: heapsnap run as nobody cannot attach to root's process, and
    root's heapsnap attaching to nobody's refuses an output directory nobody cannot write."""
    shared = sub_dir(open_dir, "shared", 0o777)
    target = services("/usr/bin/python3", "idle", shared, user=65534)  # nobody
    private = sub_dir(open_dir, "private", 0o755)
    message = refused("--pid", target.pid, "-o", os.path.join(private, "x.heapsnap"))
    assert "cannot write to %s" % private in message and "runs as nobody" in message, message
    # Root may attach to nobody's process, which writes to a directory it can write to.
    target.command("leak 1")
    snapshot = os.path.join(shared, "ok.heapsnap")
    attach(target.pid, snapshot)
    assert os.stat(snapshot).st_uid == 65534
    assert check_snapshot(snapshot, target.state(), 1) == 1
    # nobody's heapsnap and root's process.
    root_target = services(INTERPRETERS[-1], "idle", tmp_path)
    as_nobody = run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", HEAPSNAP,
                     "capture", "--pid", str(root_target.pid), "-o",
                     os.path.join(shared, "y.heapsnap")])
    assert as_nobody.returncode == 2, as_nobody.stderr
    assert "runs as root and heapsnap as nobody" in as_nobody.stderr, as_nobody.stderr
    target.command("leak 1")
    target.stop()
    root_target.stop()


def lib_without(tmp_path, keep):
    """A copy of the heapsnap library directory (links) with only the capture modules whose
    file names `keep` accepts."""
    lib = tmp_path / "lib"
    (lib / "python" / "heapsnap").mkdir(parents=True)
    for name in ("boot", "attach"):
        os.symlink(os.path.join(LIB, name), lib / name)
    package = os.path.join(LIB, "python", "heapsnap")
    for name in os.listdir(package):
        if not name.startswith("_heapsnap_") or keep(name):
            os.symlink(os.path.join(package, name), lib / "python" / "heapsnap" / name)
    return lib


def hexversion(python):
    return "%08x" % int(run([python, "-c", "import sys; print(sys.hexversion)"]).stdout)


def test_no_capture_module_for_the_version(tmp_path, services):
    """Two ways: no module for the target's minor version (known before attaching), and none
    for its exact version (the capture's own message, from inside the target)."""
    python = INTERPRETERS[0]
    target = services(python, "idle", tmp_path)
    minor = hexversion(python)[:4]
    lib = lib_without(tmp_path, lambda name: not name.startswith("_heapsnap_" + minor))
    env = dict(os.environ, HEAPSNAP_LIBDIR=str(lib))
    message = refused("--pid", target.pid, "-o", tmp_path / "x.heapsnap", env=env)
    version = run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout
    assert "runs Python %s, and this installation has capture modules for:" % version.strip() \
        in message, message
    assert "Rebuild heapsnap with -DHEAPSNAP_PYTHONS=" in message
    exact = hexversion(python)
    shutil.rmtree(lib)
    lib = lib_without(tmp_path, lambda name: not name.startswith("_heapsnap_" + exact))
    # A module of the same minor version with another micro: a fake that is never imported.
    os.symlink(os.devnull, lib / "python" / "heapsnap" / ("_heapsnap_%s99f0.fake.so" % exact[:4]))
    env = dict(os.environ, HEAPSNAP_LIBDIR=str(lib))
    message = refused("--pid", target.pid, "-o", tmp_path / "x.heapsnap", env=env)
    assert "no capture module for Python %s" % run(
        [python, "-c", "import platform; print(platform.python_version())"]).stdout.strip() \
        in message, message
    assert not os.path.exists(tmp_path / "x.heapsnap")
    target.command("leak 1")
    target.stop()


def test_no_safe_point_within_the_timeout(tmp_path, services):
    """An idle process never calls malloc: with the breakpoint way forced, nothing stops it, the
    attach gives up at the timeout, gdb detaches and the process runs on."""
    target = services(INTERPRETERS[-1], "idle", tmp_path)
    env = dict(os.environ, HEAPSNAP_ATTACH_BREAKPOINTS="1")
    started = time.monotonic()
    message = refused("--pid", target.pid, "-o", tmp_path / "x.heapsnap", "--timeout", "2",
                      env=env)
    assert time.monotonic() - started < 30
    assert "did not reach a point where heapsnap can load its thread within 2 s" in message
    assert proc_state(target.pid) not in "TtZX"
    target.command("leak 2")
    assert target.state()["leaked"] == 2
    target.stop()


GIL_HOLDER = r"""
import json, sys, time
n = 10 ** 6
started = time.monotonic()
sum(range(n))
n = int(n * 4 / max(time.monotonic() - started, 1e-3))  # about 4 s in one C call
with open(sys.argv[1], "w") as f:
    f.write("ready")
sum(range(n))  # holds the GIL throughout
with open(sys.argv[1], "w") as f:
    f.write("done")
sys.stdin.readline()
print("still fine", flush=True)
"""


def test_gil_not_released_within_the_timeout(tmp_path):
    python = INTERPRETERS[-1]
    flag = tmp_path / "flag"
    target = subprocess.Popen([python, "-c", GIL_HOLDER, str(flag)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: flag.exists() and flag.read_text() == "ready", "the long C call")
        output = tmp_path / "x.heapsnap"
        message = refused("--pid", target.pid, "-o", output, "--timeout", "1")
        assert "did not obtain the GIL within 1 s" in message, message
        # When the call ends, the thread gets the GIL, finds the request cancelled and does
        # nothing: no snapshot, and the program goes on.
        wait_for(lambda: flag.read_text() == "done", "the long C call to end")
        out, _ = target.communicate("\n", timeout=60)
        assert out == "still fine\n"
        assert not output.exists()
        assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp") or "heapsnap" in n]
    finally:
        target.kill()
        target.wait()
