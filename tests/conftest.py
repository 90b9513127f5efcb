"""End-to-end test helpers: the built heapsnap CLI, the interpreters the capture was built for,
and running fixture programs under capture."""
import json
import os
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("HEAPSNAP_BUILD_DIR", os.path.join(ROOT, "build"))
HEAPSNAP = os.environ.get("HEAPSNAP_BIN", os.path.join(BUILD, "bin", "heapsnap"))
FIXTURES = os.path.join(ROOT, "fixtures")


def interpreters():
    path = os.path.join(BUILD, "interpreters.txt")
    with open(path) as f:
        found = [line.strip() for line in f if line.strip()]
    if not found:
        raise RuntimeError("%s lists no interpreter: the capture was built for none" % path)
    return found


def interpreter_id(exe):
    out = subprocess.run([exe, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    return "py" + out


INTERPRETERS = interpreters()


@pytest.fixture(params=INTERPRETERS, ids=[interpreter_id(p) for p in INTERPRETERS])
def python(request):
    return request.param


def run(args, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("timeout", 600)
    return subprocess.run(args, **kwargs)


def heapsnap(*args, check=True, **kwargs):
    result = run([HEAPSNAP] + [str(a) for a in args], **kwargs)
    if check and result.returncode != 0:
        raise AssertionError("heapsnap %s failed (%d):\n%s\n%s"
                             % (" ".join(map(str, args)), result.returncode, result.stdout,
                                result.stderr))
    return result


def heapsnap_json(*args):
    return json.loads(heapsnap(*args, "--json").stdout)


def wait_for(predicate, what, timeout=60.0):
    """Polls predicate until it returns something true, and returns that; fails the test after
    timeout seconds, naming what it waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def fixture(name):
    return os.path.join(FIXTURES, name)


class Objects:
    """The objects of a snapshot the tests asked about, by id, from `heapsnap objects --json`."""

    def __init__(self, snapshot, ids):
        args = ["objects", snapshot]
        for i in ids:
            args += ["--id", str(i)]
        self.by_id = {int(o["id"], 16): o for o in heapsnap_json(*args)["objects"]}

    def __getitem__(self, object_id):
        return self.by_id[object_id]

    def edge(self, source, label):
        """The edge of `source` labelled `label`; raises if there is none."""
        edges = [e for e in self[source]["edges"] if e["label"] == label]
        assert edges, "%s has no edge %r; it has %s" % (
            self[source]["type"], label, [e["label"] for e in self[source]["edges"]])
        return edges[0]

    def target(self, source, label):
        return int(self.edge(source, label)["target"], 16)
