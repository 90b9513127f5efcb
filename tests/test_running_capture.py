"""Snapshots of programs while they run: on a signal, periodically, from the environment
(programs started by other launchers), and the fork capture, whose snapshot must equal a
stop-the-world one of the same heap state object by object. The target is a long-running
service (fixtures/service.py) that leaks on a schedule."""
import glob
import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time

import pytest

from conftest import BUILD, FIXTURES, HEAPSNAP, fixture, heapsnap, heapsnap_json, run, wait_for

sys.path.insert(0, FIXTURES)
import service  # noqa: E402  (expected_checksum: what a healthy service prints)

COMPARE = os.path.join(BUILD, "bin", "snapshot_compare")
LIB = os.path.join(BUILD, "lib", "heapsnap")


def read_state(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def start_under_capture(args, python, mode, state, extra=(), **kwargs):
    """`heapsnap capture ARGS -- python service.py MODE STATE EXTRA` in the background."""
    command = [HEAPSNAP, "capture"] + [str(a) for a in args] + [
        "--", python, fixture("service.py"), mode, str(state)] + [str(a) for a in extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.PIPE, text=True, **kwargs)
    wait_for(lambda: read_state(state) or process.poll() is not None, "the service to start")
    assert process.poll() is None, process.communicate()
    return process


def finish(process, timeout=120):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def assert_healthy(out, state_path):
    """The service's last line: the checksum of the ticks it did, as a healthy process
    computes it."""
    last = out.strip().splitlines()[-1]
    assert last.startswith("service stopped: "), out
    fields = dict(part.split("=") for part in last[len("service stopped: "):].split())
    assert int(fields["checksum"]) == service.expected_checksum(int(fields["ticks"])), last
    return fields


def assert_private(path):
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, oct(os.stat(path).st_mode)


def no_temporary_files(directory):
    return [p for p in os.listdir(directory) if ".tmp-" in p]


@pytest.mark.parametrize("fork", [False, True], ids=["stop-the-world", "fork"])
def test_signal_snapshots_of_a_busy_service(python, tmp_path, fork):
    """Each signal writes the next numbered snapshot, whether it is sent to heapsnap (which
    passes it on) or to the program; SIGTERM to heapsnap stops the program, which ends with
    the exit snapshot. The leak shows as a group growing across the series."""
    state = tmp_path / "state.json"
    output = tmp_path / "app.heapsnap"
    args = ["--on-signal", "-o", output] + (["--fork"] if fork else [])
    process = start_under_capture(args, python, "busy", state, ["--leak-every", "0.05"])
    pid = read_state(state)["pid"]
    process.send_signal(signal.SIGUSR2)  # to heapsnap: passed on
    first = wait_for(lambda: os.path.exists(tmp_path / "app.1.heapsnap"), "snapshot 1")
    time.sleep(0.3)  # more leaks
    os.kill(pid, signal.SIGUSR2)  # to the program itself
    wait_for(lambda: os.path.exists(tmp_path / "app.2.heapsnap"), "snapshot 2")
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    code, out, err = finish(process)
    assert code == 0, err
    assert first
    assert_healthy(out, state)
    snapshots = [str(tmp_path / ("app.%d.heapsnap" % n)) for n in (1, 2, 3)]
    assert "3 snapshots written: " + " ".join(snapshots) in err, err
    assert not os.path.exists(output)
    assert not no_temporary_files(tmp_path)
    for path, reason in zip(snapshots, ["signal", "signal", "exit"]):
        assert_private(path)
        summary = heapsnap_json("summary", path)
        assert summary["reason"] == reason
        assert summary["pid"] == pid
    if fork:
        assert "writes it; the program paused" in err, err
        assert "written to %s by pid" % snapshots[0] in err, err
    # The leak, found by comparing the three snapshots.
    diff = heapsnap_json("diff", *snapshots)
    grown = [g for g in diff["growing"] if g["type"] == "__main__.Session"]
    # The same shape whether a frame was running (signal snapshots) or not (at exit).
    assert grown and "".join(grown[0]["path"]) == "sys.modules['__main__'].SESSIONS[*]", grown
    check = heapsnap("check", snapshots[-1], "--baseline", snapshots[0], check=False)
    assert check.returncode == 1, check.stdout


def test_signal_snapshot_of_an_idle_service(python, tmp_path):
    """A process blocked in read(2) on its only thread is snapshotted at once: heapsnap's own
    thread takes the GIL, which the blocked thread released; the program then goes on."""
    state = tmp_path / "state.json"
    output = tmp_path / "idle.heapsnap"
    process = start_under_capture(["--on-signal", "USR1", "--no-at-exit", "-o", output], python,
                                  "idle", state)
    facts = read_state(state)
    process.send_signal(signal.SIGUSR1)
    snapshot = str(tmp_path / "idle.1.heapsnap")
    wait_for(lambda: os.path.exists(snapshot), "the idle service's snapshot", timeout=30)
    process.stdin.write("leak 5\n")
    process.stdin.flush()
    assert process.stdout.readline().strip() == "ok leak"
    process.stdin.write("quit\n")
    process.stdin.flush()
    code, out, err = finish(process)
    assert code == 0, err
    fields = assert_healthy(out, state)
    assert fields["leaked"] == "5"
    marker = heapsnap_json("objects", snapshot, "--id", hex(facts["marker"]))["objects"]
    assert marker and marker[0]["type"] == "Marker", marker
    path = heapsnap("path", snapshot, "--id", hex(facts["marker"])).stdout
    assert "MARKER" in path, path
    assert "1 snapshot written: " + snapshot in err, err
    assert not glob.glob(str(tmp_path / "idle.2.heapsnap"))  # --no-at-exit


def test_periodic_snapshots(python, tmp_path):
    state = tmp_path / "state.json"
    output = tmp_path / "tick.heapsnap"
    process = start_under_capture(["--every", "0.4", "--no-at-exit", "-o", output], python,
                                  "busy", state, ["--leak-every", "0.05"])
    wait_for(lambda: os.path.exists(tmp_path / "tick.3.heapsnap"), "three periodic snapshots")
    process.send_signal(signal.SIGTERM)
    code, out, err = finish(process)
    assert code == 0, err
    assert_healthy(out, state)
    written = sorted(glob.glob(str(tmp_path / "tick.*.heapsnap")))
    assert len(written) >= 3
    for path in written:
        assert heapsnap_json("summary", path)["reason"] == "periodic"
    diff = heapsnap_json("diff", *[tmp_path / ("tick.%d.heapsnap" % n) for n in (1, 2, 3)])
    grown = [g for g in diff["growing"] if g["type"] == "__main__.Session"]
    assert grown and grown[0]["counts"][0] < grown[0]["counts"][1] < grown[0]["counts"][2]


def env_for_launcher(python_path_dir, **variables):
    env = dict(os.environ)
    env["PYTHONPATH"] = python_path_dir
    env.update(variables)
    return env


def test_triggers_from_the_environment_in_a_preforked_worker(python, tmp_path):
    """A program started by another launcher, armed by HEAPSNAP_* variables; the pre-fork
    server's worker gets triggers of its own, so a signal to the worker snapshots the worker."""
    printed = heapsnap("capture", "--print-env", "--on-signal", "--no-at-exit", "-o",
                       tmp_path / "web-{pid}.heapsnap").stdout
    # Lines for a shell or a systemd EnvironmentFile: NAME=value, quoted where needed.
    variables = dict(shlex.split(line)[0].split("=", 1) for line in printed.splitlines())
    assert variables["HEAPSNAP_ON_SIGNAL"] == str(int(signal.SIGUSR2))
    assert variables["PYTHONPATH"].startswith(LIB + "/boot:")
    program = (
        "import os, sys, time\n"
        "leak = []\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    leak.extend(range(100000))\n"
        "    open(sys.argv[1] + '.worker', 'w').write(str(os.getpid()))\n"
        "    while not os.path.exists(sys.argv[1] + '.stop'): time.sleep(0.02)\n"
        "    os._exit(0)\n"
        "open(sys.argv[1] + '.master', 'w').write(str(os.getpid()))\n"
        "os.waitpid(pid, 0)\n")
    marker = str(tmp_path / "pids")
    env = dict(os.environ, **variables)
    process = subprocess.Popen([python, "-c", program, marker], env=env,
                               stderr=subprocess.PIPE, text=True)
    worker = int(wait_for(lambda: os.path.exists(marker + ".worker") and
                          open(marker + ".worker").read(), "the worker"))
    master = int(open(marker + ".master").read())
    os.kill(worker, signal.SIGUSR2)
    snapshot = str(tmp_path / ("web-%d.1.heapsnap" % worker))
    wait_for(lambda: os.path.exists(snapshot), "the worker's snapshot")
    open(marker + ".stop", "w").close()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert heapsnap_json("summary", snapshot)["pid"] == worker
    assert not os.path.exists(str(tmp_path / ("web-%d.1.heapsnap" % master)))
    assert "snapshot 1 (signal) written to " + snapshot in err


@pytest.mark.parametrize("variable, value, message", [
    ("HEAPSNAP_EVERY", "soon", "HEAPSNAP_EVERY=soon is not a number of seconds"),
    ("HEAPSNAP_EVERY", "-1", "HEAPSNAP_EVERY=-1 is not a number of seconds"),
    ("HEAPSNAP_ON_SIGNAL", "USR9", "HEAPSNAP_ON_SIGNAL=USR9 is not a signal"),
    ("HEAPSNAP_ON_SIGNAL", "KILL", "that signal cannot be caught"),
    ("HEAPSNAP_FORK", "yes", "HEAPSNAP_FORK=yes must be 1 or 0"),
])
def test_bad_environment_stops_before_the_program_runs(python, tmp_path, variable, value,
                                                       message):
    env = dict(os.environ, PYTHONPATH=LIB + "/boot:" + LIB + "/python",
               HEAPSNAP_OUTPUT=str(tmp_path / "x.heapsnap"), **{variable: value})
    result = run([python, "-c", "open(%r, 'w').close()" % str(tmp_path / "ran")], env=env)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert not os.path.exists(tmp_path / "ran")


@pytest.mark.parametrize("args, message", [
    (["--no-at-exit"], "--no-at-exit leaves nothing to capture"),
    (["--fork"], "--fork applies to the --on-signal and --every snapshots"),
    (["--on-signal", "KILL"], "cannot be caught"),
    (["--on-signal", "NOPE"], "not a signal's name or number"),
    (["--every", "0"], "--every"),
])
def test_bad_trigger_options(tmp_path, args, message):
    result = heapsnap("capture", *args, "-o", tmp_path / "x.heapsnap", "--", sys.executable,
                      "-c", "open(%r, 'w').close()" % str(tmp_path / "ran"), check=False)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr, result.stderr
    assert not os.path.exists(tmp_path / "ran")


def test_fork_capture_equals_stop_the_world_capture(python, tmp_path):
    """The child's snapshot and one the parent takes right after fork() returns describe the
    same heap, object by object; the fork ran none of Python's at-fork hooks, atexit handlers
    or finalizers in the child, and the parent's work gives the right result."""
    facts_path = tmp_path / "facts.json"
    prefix = str(tmp_path / "heap")
    result = run([python, fixture("fork_capture.py"), str(facts_path), prefix],
                 env=env_for_launcher(LIB + "/python"))
    assert result.returncode == 0, result.stderr
    with open(facts_path) as f:
        facts = json.load(f)
    compared = run([COMPARE, prefix + "-fork.heapsnap", prefix + "-parent.heapsnap"])
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert compared.stdout.startswith("equal: "), compared.stdout
    objects = int(compared.stdout.split()[1])
    assert objects > facts["objects"] * 2
    assert facts["result"]["objects"] == objects
    assert facts["marks"] == []  # no os.register_at_fork hook ran, in either process
    child = facts["pid"]
    assert not os.path.exists(prefix + "-atexit.%d" % child)
    assert not os.path.exists(prefix + "-finalized.%d" % child)
    assert os.path.exists(prefix + "-atexit.%d" % facts["parent"])  # the parent's ran
    n = facts["objects"]
    assert facts["total"] == n * (n - 1) // 2 + sum(i + 1 for i in range(100))
    summary = heapsnap_json("summary", prefix + "-fork.heapsnap")
    assert summary["pid"] == facts["parent"] and summary["reason"] == "fork"
    assert_private(prefix + "-fork.heapsnap")
    # The parked thread's frame is in the child's snapshot too.
    path = heapsnap("path", prefix + "-fork.heapsnap", "--id", hex(facts["node0"])).stdout
    assert "nodes" in path, path


def test_fork_capture_failures_leave_nothing(python, tmp_path):
    """A child that cannot write, and a child killed while it writes: the parent gets the
    reason, no file appears, no temporary file remains, and the parent goes on."""
    program = (
        "import os, signal, sys, heapsnap\n"
        "d = sys.argv[1]\n"
        "big = [[i] for i in range(3000000)]\n"
        "started = heapsnap.dump(os.path.join(d, 'missing', 'x.heapsnap'), fork=True)\n"
        "try:\n"
        "    heapsnap.wait_forked(started['pid'])\n"
        "except RuntimeError as error:\n"
        "    print('failed:', error)\n"
        "started = heapsnap.dump(os.path.join(d, 'killed.heapsnap'), fork=True)\n"
        "import glob, time\n"
        "while not glob.glob(os.path.join(d, 'killed.heapsnap.tmp-*')): time.sleep(0.001)\n"
        "os.kill(started['pid'], signal.SIGKILL)  # while it writes\n"
        "try:\n"
        "    heapsnap.wait_forked(started['pid'])\n"
        "except RuntimeError as error:\n"
        "    print('killed:', error)\n"
        "print('parent still has', len(big))\n")
    result = run([python, "-c", program, str(tmp_path)], env=env_for_launcher(LIB + "/python"))
    assert result.returncode == 0, result.stderr
    assert "failed: heapsnap: " in result.stdout and "missing" in result.stdout, result.stdout
    assert "killed: heapsnap: the capture's child was killed by signal 9" in result.stdout, \
        result.stdout
    assert "parent still has 3000000" in result.stdout
    assert os.listdir(tmp_path) == [], os.listdir(tmp_path)
