"""The CLI's contract: clear errors with exit code 2 for bad input, never a crash."""
import os
import shutil
import subprocess

import pytest

from conftest import BUILD, INTERPRETERS, ROOT, fixture, heapsnap, heapsnap_json, run


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "good.heapsnap"
    heapsnap("capture", "-o", path, "--", INTERPRETERS[0], fixture("exit_code.py"), "0")
    return path


def expect_input_error(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.startswith("heapsnap: "), result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["summary", "objects"])
def test_bad_files_are_errors_not_crashes(command, snapshot, tmp_path):
    good = open(snapshot, "rb").read()
    cases = {
        "missing.heapsnap": None,
        "empty.heapsnap": b"",
        "text.heapsnap": b"print('hello')\n",
        "truncated.heapsnap": good[: len(good) // 2],
        "no-trailer.heapsnap": good[:-20],
        "flipped.heapsnap": good[:100] + bytes([good[100] ^ 0xFF]) + good[101:],
        "trailing.heapsnap": good + b"junk",
    }
    for name, data in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        extra = ["--id", "0x1"] if command == "objects" else []
        result = heapsnap(command, path, *extra, check=False)
        expect_input_error(result, str(path))


def test_error_messages_say_what_is_wrong(snapshot, tmp_path):
    good = open(snapshot, "rb").read()
    (tmp_path / "t.heapsnap").write_bytes(good[: len(good) // 2])
    (tmp_path / "x.heapsnap").write_bytes(b"PK\x03\x04 a zip file")
    expect_input_error(heapsnap("summary", tmp_path / "t.heapsnap", check=False), "truncated")
    expect_input_error(heapsnap("summary", tmp_path / "x.heapsnap", check=False),
                       "not a heapsnap snapshot")
    expect_input_error(heapsnap("summary", tmp_path / "none.heapsnap", check=False),
                       "no such file")


def test_usage_errors_exit_2(snapshot):
    assert heapsnap("summary", check=False).returncode == 2
    assert heapsnap("nonsense", check=False).returncode == 2
    assert heapsnap(check=False).returncode == 2
    expect_input_error(heapsnap("objects", snapshot, "--id", "zz", check=False), "not an object id")
    expect_input_error(heapsnap("objects", snapshot, "--id", "0x1", check=False), "no object")
    expect_input_error(heapsnap("objects", snapshot, check=False), "--id or --type")
    assert heapsnap("--help").returncode == 0


def test_summary_text_and_top(snapshot):
    text = heapsnap("summary", snapshot, "--top", "3").stdout
    assert "objects" in text and "gc-tracked" in text
    assert "more types (--top 0 shows all)" in text
    data = heapsnap_json("summary", snapshot, "--top", "3")
    assert len(data["types"]) == 3


def test_interpreter_without_module_gets_a_clear_error(tmp_path):
    lib = tmp_path / "lib"
    shutil.copytree(os.path.join(BUILD, "lib", "heapsnap"), lib,
                    ignore=shutil.ignore_patterns("_heapsnap_*"))
    env = dict(os.environ, HEAPSNAP_LIBDIR=str(lib))
    result = heapsnap("capture", "-o", tmp_path / "x.heapsnap", "--", INTERPRETERS[0],
                      fixture("exit_code.py"), "0", env=env, check=False)
    assert result.returncode == 2, result.stderr
    assert "no capture module for Python" in result.stderr
    assert "-DHEAPSNAP_PYTHONS=" in result.stderr
    assert result.stderr.startswith("heapsnap: the capture could not start"), result.stderr
    assert "exited with code" not in result.stderr
    assert not (tmp_path / "x.heapsnap").exists()


def test_capture_errors(tmp_path):
    result = heapsnap("capture", "-o", tmp_path / "x.heapsnap", "--", "no-such-program-xyz",
                      check=False)
    assert result.returncode == 127
    assert "cannot run 'no-such-program-xyz'" in result.stderr
    expect_input_error(heapsnap("capture", "-o", tmp_path / "missing-dir" / "x.heapsnap", "--",
                                INTERPRETERS[0], "-c", "pass", check=False),
                       "the directory does not exist")


def test_only_the_first_python_writes(tmp_path):
    snap = tmp_path / "parent.heapsnap"
    result = heapsnap("capture", "-o", snap, "--", INTERPRETERS[0], fixture("spawns_child.py"))
    parent_pid, child_pid = result.stdout.split()
    text = heapsnap("summary", snap).stdout
    assert "pid %s," % parent_pid in text
    assert not list(tmp_path.glob("*.tmp-*"))


def test_capture_after_install(tmp_path):
    prefix = tmp_path / "prefix"
    out = run(["cmake", "--install", BUILD, "--prefix", str(prefix)])
    assert out.returncode == 0, out.stderr
    snap = tmp_path / "installed.heapsnap"
    installed = str(prefix / "bin" / "heapsnap")
    result = run([installed, "capture", "-o", str(snap), "--", INTERPRETERS[-1],
                  fixture("exit_code.py"), "0"])
    assert result.returncode == 0, result.stderr
    assert run([installed, "summary", str(snap)]).returncode == 0


def test_forked_children_do_not_write_the_snapshot(tmp_path):
    import time
    snap = tmp_path / "fork.heapsnap"
    result = heapsnap("capture", "-o", snap, "--", INTERPRETERS[-1], fixture("forks.py"))
    parent_pid, child_pid = result.stdout.split()
    deadline = time.time() + 30
    while time.time() < deadline:  # wait until the child has exited too
        try:
            os.kill(int(child_pid), 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    time.sleep(0.2)
    assert "pid %s," % parent_pid in heapsnap("summary", snap).stdout


def test_text_output_never_drives_the_terminal(python, tmp_path):
    snap = tmp_path / "escapes.heapsnap"
    heapsnap("capture", "-o", snap, "--", python, fixture("terminal_escapes.py"))
    outputs = [
        heapsnap("objects", snap, "--type", "str", "--limit", "0").stdout,
        heapsnap("path", snap, "--type", "__main__.Evil\x1b[2J").stdout,
        heapsnap("top", snap, "--limit", "0").stdout,
        heapsnap("summary", snap, "--top", "0").stdout,
        heapsnap("leaks", snap).stdout,
    ]
    for out in outputs:
        assert "\x1b" not in out and "\x07" not in out and "\u009b" not in out
    assert "\\x1b]0;owned\\x07" in outputs[0]  # shown, escaped
    assert "HOLDER['\\x1b]0;key\\x07']" in outputs[1]
    assert "Evil\\x1b[2J" in outputs[2]  # the type name, in top
    # JSON keeps the text exact, with the controls escaped.
    data = heapsnap_json("path", snap, "--type", "Evil\x1b[2J")
    assert data["paths"][0]["target"]["type"] == "Evil\x1b[2J"


def test_type_names_are_never_merged_silently(python, tmp_path):
    snap = tmp_path / "names.heapsnap"
    heapsnap("capture", "-o", snap, "--", python, fixture("same_names.py"))
    for command in ("path", "objects", "top"):
        result = heapsnap(command, snap, "--type", "Request", check=False)
        assert result.returncode == 2, (command, result.stdout)
        assert "__main__.Request (3 objects)" in result.stderr
        assert "werkzeug.wrappers.Request (5 objects)" in result.stderr
        assert "qualified name" in result.stderr
    assert heapsnap_json("path", snap, "--type", "werkzeug.wrappers.Request")["count"] == 5
    assert heapsnap_json("path", snap, "--type", "__main__.Request")["count"] == 3
    # Every qualified name summary prints is accepted, builtins also with their module.
    summary_types = {t["type"] for t in heapsnap_json("summary", snap)["types"]}
    assert "property" in summary_types
    for name in ("property", "builtins.property"):
        assert heapsnap_json("objects", snap, "--type", name, "--limit", "0")["objects"]
    # objects --type says what --limit left out.
    shown = heapsnap("objects", snap, "--type", "__main__.Request", "--limit", "2").stdout
    assert "... 1 more objects of type __main__.Request (--limit 0 shows all)" in shown
    # A class of the same name with no instance does not make a name ambiguous.
    assert heapsnap_json("path", snap, "--type", "Task")["count"] == 4
    missing = heapsnap("path", snap, "--type", "NoSuchClass", check=False)
    assert missing.returncode == 2 and "no object of type NoSuchClass" in missing.stderr


def test_version_is_written_once(python):
    # CMakeLists.txt's project() version reaches the CLI and the Python package alike.
    cli = heapsnap("--version").stdout.split()[-1]
    package = run([python, "-c", "import heapsnap; print(heapsnap.__version__)"],
                  env=dict(os.environ, PYTHONPATH=os.path.join(BUILD, "lib", "heapsnap", "python")))
    assert package.stdout.strip() == cli, package.stderr
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        assert "VERSION %s " % cli in f.read()
