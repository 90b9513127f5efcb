"""`heapsnap export --format devtools`: the Chrome DevTools heap snapshot of real programs
(fixtures captured under every interpreter), loaded by a real client, memlab, which must see
the same objects and compute the same retained sizes as heapsnap."""
import collections
import json
import os
import pty
import shutil
import subprocess

import pytest

from conftest import BUILD, HEAPSNAP, INTERPRETERS, fixture, heapsnap, heapsnap_json, run

MEMLAB_DIR = os.path.join(BUILD, "memlab")
MEMLAB_VERSION = "2.0.5"
# What npm prints when it cannot reach the registry (no network, DNS, proxy, timeout).
NETWORK_ERRORS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT",
                  "ENETUNREACH", "EHOSTUNREACH", "network", "proxy")

# Loads a .heapsnapshot with memlab's own loader and analysis (parse, shortest paths,
# dominators, retained sizes) and writes every node as [id, type, name, self_size, retained].
LOAD_WITH_MEMLAB = r"""
const fs = require('fs');
const {getFullHeapFromFile} = require('@memlab/heap-analysis');
(async () => {
  const heap = await getFullHeapFromFile(process.argv[2]);
  const nodes = [];
  heap.nodes.forEach(n => {
    nodes.push([n.id, n.type, n.name.slice(0, 100), n.self_size, n.retainedSize]);
  });
  fs.writeFileSync(process.argv[3], JSON.stringify(nodes));
})().catch(e => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def memlab():
    """memlab installed from npm under the build tree; skips only when npm cannot reach the
    registry."""
    marker = os.path.join(MEMLAB_DIR, "node_modules", "@memlab", "heap-analysis", "package.json")
    if not os.path.exists(marker):
        npm = shutil.which("npm")
        assert npm and shutil.which("node"), \
            "node and npm are needed to test the export with memlab: run scripts/setup.sh"
        os.makedirs(MEMLAB_DIR, exist_ok=True)
        env = dict(os.environ, PUPPETEER_SKIP_DOWNLOAD="true")
        result = run([npm, "install", "--no-audit", "--no-fund", "--prefix", MEMLAB_DIR,
                      "memlab@" + MEMLAB_VERSION], env=env, timeout=900)
        if result.returncode != 0:
            output = result.stdout + result.stderr
            if any(e in output for e in NETWORK_ERRORS):
                print("npm cannot reach its registry:\n" + output)
                pytest.skip("npm cannot reach its registry to install memlab: "
                            + output.strip().splitlines()[-1])
            raise AssertionError("npm install memlab failed:\n" + output)
    script = os.path.join(MEMLAB_DIR, "load_with_memlab.js")
    with open(script, "w") as f:
        f.write(LOAD_WITH_MEMLAB)
    return script


def memlab_nodes(memlab, export, tmp_path):
    out = tmp_path / "memlab_nodes.json"
    env = dict(os.environ, NODE_PATH=os.path.join(MEMLAB_DIR, "node_modules"))
    result = run(["node", "--max-old-space-size=4096", memlab, str(export), str(out)], env=env,
                 cwd=str(tmp_path))
    assert result.returncode == 0, "memlab failed to load %s:\n%s\n%s" % (
        export, result.stdout, result.stderr)
    with open(out) as f:
        return json.load(f)


@pytest.mark.parametrize("program", ["leaks/closures.py", "leaks/cycles.py",
                                     "leaks/held_by_c.py"])
def test_memlab_sees_the_same_objects_and_retained_sizes(python, tmp_path, memlab, program):
    snap = tmp_path / "app.heapsnap"
    heapsnap("capture", "-o", snap, "--", python, fixture(program))
    export = tmp_path / "app.heapsnapshot"
    result = heapsnap("export", snap, "--format", "devtools", "-o", export)
    assert "Chrome DevTools heap snapshot" in result.stderr
    assert oct(os.stat(export).st_mode & 0o777) == "0o600"

    nodes = memlab_nodes(memlab, export, tmp_path)
    summary = heapsnap_json("summary", snap)
    objects = [n for n in nodes if n[1] != "synthetic"]
    # Every object of the snapshot, its running frames (3.11+: heapsnap's own synthetic
    # objects, hidden nodes here) included.
    total = summary["objects"] + summary["running_frames"]
    assert len(objects) == total
    assert nodes[0][0] == 1 and nodes[0][1] == "synthetic"
    assert all(n[0] % 2 == 1 for n in nodes), "ids are odd"
    assert len({n[0] for n in nodes}) == len(nodes), "ids are unique"

    # Every object's own and retained size, as memlab computes them from the export, equals
    # heapsnap's (the whole multiset: no id links the two, addresses being 64-bit).
    every = heapsnap_json("top", snap, "--all", "--limit", "0")["objects"]
    assert len(every) == total
    assert sorted((o["self_bytes"], o["retained_bytes"]) for o in every) == \
        sorted((n[3], n[4]) for n in objects)

    # The largest objects by retained size (heapsnap top), each found in memlab's view with
    # its type as name (objects) and the same sizes.
    by_sizes = collections.defaultdict(list)
    for n in objects:
        by_sizes[(n[3], n[4])].append(n)
    top = heapsnap_json("top", snap, "--limit", "10")["objects"]
    assert top
    for o in top:
        found = by_sizes[(o["self_bytes"], o["retained_bytes"])]
        assert found, "memlab has no node of %s with heapsnap's sizes %d/%d" % (
            o["type"], o["self_bytes"], o["retained_bytes"])
        assert any(n[2] == o["type"] or n[1] != "object" for n in found), (o, found)

    # The garbage of the cycles fixture is under its own synthetic node, with what it retains.
    if program == "leaks/cycles.py":
        garbage = [n for n in nodes if n[1] == "synthetic" and n[2] == "(unreachable garbage)"]
        assert len(garbage) == 1
        assert garbage[0][4] == summary["unreachable"]["retained_bytes"]


def test_progress_on_a_terminal(tmp_path):
    snap = tmp_path / "app.heapsnap"
    heapsnap("capture", "-o", snap, "--", INTERPRETERS[0], fixture("leaks/closures.py"))
    master, slave = pty.openpty()
    proc = subprocess.run([HEAPSNAP, "export", str(snap), "-o",
                           str(tmp_path / "x.heapsnapshot")], stderr=slave,
                          stdout=subprocess.DEVNULL, timeout=600)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.returncode == 0
    # Redrawn at most ten times a second: a small export shows its first phase.
    assert b"heapsnap: writing nodes" in seen, seen


def test_bad_input_is_exit_2_and_writes_nothing(tmp_path):
    out = tmp_path / "out.heapsnapshot"
    missing = heapsnap("export", tmp_path / "missing.heapsnap", "-o", out, check=False)
    assert missing.returncode == 2 and "missing.heapsnap" in missing.stderr
    corrupt = tmp_path / "corrupt.heapsnap"
    corrupt.write_bytes(b"\x89HSNAP\r\n" + b"\x00" * 100)
    result = heapsnap("export", corrupt, "-o", out, check=False)
    assert result.returncode == 2 and "corrupt.heapsnap" in result.stderr
    assert not out.exists()

    snap = tmp_path / "app.heapsnap"
    heapsnap("capture", "-o", snap, "--", INTERPRETERS[0], fixture("leaks/cycles.py"))
    result = heapsnap("export", snap, "--format", "dot", "-o", out, check=False)
    assert result.returncode == 2 and not out.exists()
    result = heapsnap("export", snap, "-o", tmp_path, check=False)  # a directory
    assert result.returncode == 2 and "directory" in result.stderr
    assert not [f for f in os.listdir(tmp_path) if ".tmp-" in f]


def test_no_values_snapshot_exports_no_values(python, tmp_path):
    """An export holds what its snapshot holds: from a --no-values snapshot, no secret (the
    names of strs it left out read `<str of N chars>`)."""
    from test_capture import TOKENS, secrets_env  # pylint: disable=import-outside-toplevel
    secrets = [b"ada@example.com", b"hunter2-password", b"token-abc123-secret",
               b"987654321987"] + [t.encode() for t in TOKENS.values()]
    for values, snap in ((True, tmp_path / "with.heapsnap"), (False, tmp_path / "without.heapsnap")):
        heapsnap("capture", *([] if values else ["--no-values"]), "-o", snap, "--", python,
                 fixture("secrets.py"), env=secrets_env())
        export = tmp_path / (snap.stem + ".heapsnapshot")
        heapsnap("export", snap, "-o", export)
        data = export.read_bytes()
        for secret in secrets:
            assert (secret in data) == values, (values, secret)  # the test sees them when there
        if not values:
            assert b'"<str of 40 chars>"' in data
