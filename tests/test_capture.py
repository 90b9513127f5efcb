"""End to end, on every interpreter the capture was built for: run fixture programs, capture
their heaps and check what the programs know they made."""
import json
import os
import shutil
import stat

import pytest

from conftest import HEAPSNAP, Objects, fixture, heapsnap, heapsnap_json, run


@pytest.fixture
def known(python, tmp_path):
    """known_objects.py dumps from inside a running function; returns (facts, snapshot)."""
    facts_path = tmp_path / "facts.json"
    snapshot = tmp_path / "known.heapsnap"
    result = heapsnap("capture", "-o", tmp_path / "atexit.heapsnap", "--", python,
                      fixture("known_objects.py"), facts_path, snapshot)
    assert "snapshot written to" in result.stderr
    with open(facts_path) as f:
        return json.load(f), str(snapshot)


def attribute(objects, source, name):
    """obj.name: a direct attribute edge (slots, 3.11+ managed dicts) or through __dict__."""
    for e in objects[source]["edges"]:
        if e["label"] == "." + name:
            return int(e["target"], 16)
    dict_id = objects.target(source, ".__dict__")
    objects.by_id.update(Objects(objects.snapshot, [dict_id]).by_id)
    return objects.target(dict_id, "['%s']" % name)


def load(snapshot, ids):
    objects = Objects(snapshot, ids)
    objects.snapshot = snapshot
    return objects


def test_reachable_cycle(known):
    facts, snap = known
    objects = load(snap, [facts["cycle_a"], facts["cycle_b"]])
    assert attribute(objects, facts["cycle_a"], "next") == facts["cycle_b"]
    assert attribute(objects, facts["cycle_b"], "next") == facts["cycle_a"]
    assert objects[facts["cycle_a"]]["qualtype"] == "__main__.Node"
    assert "gc_tracked" in objects[facts["cycle_a"]]["flags"]


def test_dict_keyed_chain(known):
    facts, snap = known
    objects = load(snap, [facts["registry"], facts["users"], facts["user"], facts["orders"]])
    assert objects.target(facts["registry"], "['users']") == facts["users"]
    assert objects.target(facts["users"], "['ada']") == facts["user"]
    assert attribute(objects, facts["user"], "orders") == facts["orders"]
    assert objects.target(facts["orders"], "[7]") == facts["order7"]
    # The str key itself is a strong edge that tp_traverse does not report.
    key_edge = objects.edge(facts["users"], "<key 'ada'>")
    assert key_edge["kind"] == "strong"


def test_closure_and_defaults(known):
    facts, snap = known
    objects = load(snap, [facts["handler"], facts["cell"], facts["defaults"], facts["kwdefaults"]])
    closure = objects.target(facts["handler"], ".__closure__")
    closure_objects = load(snap, [closure])
    assert closure_objects.target(closure, "<closure cache>") == facts["cell"]
    assert objects.target(facts["cell"], ".cell_contents") == facts["cache"]
    assert objects.target(facts["handler"], ".__defaults__") == facts["defaults"]
    assert objects.target(facts["defaults"], "<default extra=>") == facts["extra_default"]
    assert objects.edge(facts["defaults"], "<default limit=>")["target_type"] == "int"
    assert objects.target(facts["kwdefaults"], "<default scale=>") == facts["scale_default"]
    handler = objects[facts["handler"]]
    assert handler["name"] == "__main__.make_handler.<locals>.handler"
    assert handler["file"].endswith("known_objects.py")
    assert handler["line"] > 0


def test_slotted_class(known):
    facts, snap = known
    objects = load(snap, [facts["slotted"], facts["slot_value"]])
    assert objects.target(facts["slotted"], ".alpha") == facts["slot_value"]
    assert objects[facts["slot_value"]]["value"] == "slot-alpha"
    assert not [e for e in objects[facts["slotted"]]["edges"] if e["label"] == ".beta"]


def test_weakref_is_a_weak_edge(known):
    facts, snap = known
    objects = load(snap, [facts["weak_ref"], facts["weak_target"]])
    edge = objects.edge(facts["weak_ref"], ".__referent__")
    assert edge["kind"] == "weak"
    assert int(edge["target"], 16) == facts["weak_target"]


def test_references_from_outside_the_graph(known):
    facts, snap = known
    objects = load(snap, [facts["c_held"], facts["cycle_a"]])
    held = objects[facts["c_held"]]
    assert held["external_refs"] == facts["c_held_extra"]
    external = [r for r in held["roots"] if r["kind"] == "external"]
    if facts["c_held_extra"]:
        assert external and external[0]["count"] == 1
        assert "held from outside the traversable graph" in external[0]["label"]
    # Everything that holds CYCLE_A is in the graph: module dict and CYCLE_B.
    assert objects[facts["cycle_a"]]["external_refs"] == 0


def test_running_frame_local(known):
    facts, snap = known
    objects = load(snap, [facts["frame_local"]])
    referrers = [r for r in objects[facts["frame_local"]]["referrers"]
                 if r["label"] == "<local frame_local>"]
    assert len(referrers) == 1, objects[facts["frame_local"]]["referrers"]
    frame_id = int(referrers[0]["source"], 16)
    frame = load(snap, [frame_id])[frame_id]
    assert frame["name"] == "running_function"
    roots = [r for r in frame["roots"] if r["kind"] == "thread_frame"]
    assert roots and "running_function (" in roots[0]["label"]
    assert "known_objects.py:" in roots[0]["label"]
    assert "MainThread" in roots[0]["label"]
    if tuple(map(int, facts["python"].split("."))) >= (3, 11):
        assert "synthetic" in frame["flags"]  # interpreter frames are not objects on 3.11+
        assert referrers[0]["kind"] == "strong"
    else:
        assert frame["type"] == "frame"


def test_refcounts_are_exact(known):
    facts, snap = known
    ids = {name: facts[name] for name in facts["refcounts"]}
    objects = load(snap, list(ids.values()))
    for name, expected in facts["refcounts"].items():
        assert objects[ids[name]]["refcount"] == expected, name


def test_sizes_match_getsizeof(known):
    facts, snap = known
    sized = facts["sized"]
    objects = load(snap, [s["id"] for s in sized.values()] + [facts["cycle_a"], facts["slotted"]])
    for name, s in sized.items():
        assert objects[s["id"]]["size"] == s["getsizeof"], name
    assert objects[facts["cycle_a"]]["size"] == facts["node_getsizeof"]
    assert objects[facts["slotted"]]["size"] == facts["slotted_getsizeof"]
    assert objects[sized["str_wide"]["id"]]["value"] == "h\u00e9apsnap-\u4e2d\u6587"
    assert objects[sized["int"]["id"]]["value"] == "<int of 64 bits>"
    assert objects[sized["float"]["id"]]["value"] == "2.5"
    # Raw bytes read as Python shows them (and the JSON stays valid UTF-8).
    assert objects[sized["bytes_raw"]["id"]]["value"] == "\\x80\\xff'A\\\\\\x00z"
    text = heapsnap("objects", snap, "--id", str(sized["bytes_raw"]["id"])).stdout
    assert "value: \\x80\\xff'A\\\\\\x00z" in text


def test_roots_and_summary(known):
    facts, snap = known
    summary = heapsnap_json("summary", snap)
    assert summary["python"] == facts["python"]
    assert set(summary) >= {"objects", "bytes", "python", "types"}
    types = {t["type"]: t for t in summary["types"]}
    assert types["__main__.Order"]["count"] == 10
    assert types["__main__.Node"]["count"] == 4  # cycle a, cycle b, weak target, C-held
    assert sum(t["bytes"] for t in summary["types"]) == summary["bytes"]
    assert [t["bytes"] for t in summary["types"]] == sorted(
        (t["bytes"] for t in summary["types"]), reverse=True)


def test_capture_at_exit_and_no_values(python, tmp_path):
    snap = tmp_path / "exit.heapsnap"
    result = heapsnap("capture", "--no-values", "-o", snap, "--", python,
                      fixture("exit_code.py"), "0")
    assert result.returncode == 0
    objects = heapsnap_json("objects", snap, "--type", "str", "--limit", "0")["objects"]
    assert objects and not [o for o in objects if "value" in o]
    summary = heapsnap("summary", snap).stdout
    assert "values not recorded" in summary
    assert "captured at exit" in summary


def test_capture_passes_exit_code_through(python, tmp_path):
    snap = tmp_path / "code.heapsnap"
    result = heapsnap("capture", "-o", snap, "--", python, fixture("exit_code.py"), "3",
                      check=False)
    assert result.returncode == 3, result.stderr
    assert os.path.exists(snap)


def python_env():
    from conftest import BUILD
    return dict(os.environ, PYTHONPATH=os.path.join(BUILD, "lib", "heapsnap", "python"))


@pytest.mark.parametrize("shape", ["garbage", "reachable", "both"])
def test_collector_reproduced(python, tmp_path, shape):
    """What the snapshot predicts a full collection frees equals what gc.collect() returns
    right after the capture."""
    snap = tmp_path / "gc.heapsnap"
    out = run([python, fixture("gc_effect.py"), "dump", str(snap), shape], env=python_env())
    assert out.returncode == 0, out.stderr
    collected = json.loads(out.stdout)["collected"]
    summary = heapsnap_json("summary", snap)
    assert summary["unreachable"]["objects"] == collected
    assert summary["inconsistent_objects"] == 0
    if shape == "reachable":
        assert collected == 0
    else:
        assert collected > 1000
        assert summary["unreachable"]["cycles"] >= 551  # 500 pairs, 50 finalizers, 1 list
        assert summary["unreachable"]["retained_bytes"] >= summary["unreachable"]["bytes"] > 0


def test_unreachable_is_the_set_the_collector_finds_not_what_gc_collect_returns(python,
                                                                                tmp_path):
    """gc.collect() counts what is still there when the collector clears the unreachable set:
    what dies while finalizers run (here, closing a suspended generator frees what its frame
    held) is not counted. heapsnap's number is the set the collector found unreachable, as
    the program finds it with gc.DEBUG_SAVEALL and the ids of the tracked objects."""
    snap = tmp_path / "finalized.heapsnap"
    out = run([python, fixture("gc_finalized.py"), str(snap)], env=python_env())
    assert out.returncode == 0, out.stderr
    facts = json.loads(out.stdout)
    assert facts["collected"] == facts["garbage"] == 200  # the plain cycles' 2 x 100 Holders
    assert facts["unreachable"] > 1000 + facts["collected"]
    summary = heapsnap_json("summary", snap)
    assert summary["unreachable"]["objects"] == facts["unreachable"]
    assert summary["unreachable"]["cycles"] == 300


def test_capture_changes_nothing(python, tmp_path):
    env = python_env()
    results = {}
    for mode in ("nodump", "dump"):
        out = run([python, fixture("gc_effect.py"), mode, str(tmp_path / "gc.heapsnap")], env=env)
        assert out.returncode == 0, out.stderr
        results[mode] = json.loads(out.stdout)
    assert results["dump"]["collected"] == results["nodump"]["collected"]
    assert results["dump"]["collected"] >= 500 * 2 + 50
    assert results["dump"]["refcounts_unchanged"], results["dump"]["refcount_changes"]
    assert results["dump"]["tracked_delta"] == results["nodump"]["tracked_delta"]
    assert results["dump"]["enabled_after_dump"] is False  # the program had disabled gc
    assert results["dump"]["garbage"] == 0


def native_module(python):
    """The capture module's name for an interpreter, as heapsnap/__init__.py makes it."""
    out = run([python, "-c", "import sys; print('_heapsnap_%08x' % sys.hexversion)"])
    return out.stdout.strip()


def startup_trace(result):
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_capture_start_up_leaves_nothing_behind(python, tmp_path):
    """Under capture the program starts as it would without: nothing for the collector (the
    start-up's imports made garbage: 6 objects on 3.12, 28 on 3.10), the same sys.path,
    environment, importers, fds and gc settings; sys.modules has only the capture's own
    modules more (heapsnap, its capture module, and threading and atexit with what they
    import)."""
    plain = startup_trace(run([python, fixture("startup_trace.py")]))
    captured = startup_trace(run([HEAPSNAP, "capture", "-o", str(tmp_path / "s.heapsnap"), "--",
                                  python, fixture("startup_trace.py")]))
    assert captured["collected"] == plain["collected"] == 0
    imports = run([python, "-c", "import sys; before = set(sys.modules); import threading, atexit; "
                   "added = sorted(set(sys.modules) - before); import json; print(json.dumps(added))"])
    allowed = set(json.loads(imports.stdout)) | {"heapsnap", "heapsnap." + native_module(python)}
    assert set(plain["modules"]) <= set(captured["modules"])
    assert set(captured["modules"]) - set(plain["modules"]) <= allowed
    for key in plain:
        if key != "modules":
            assert captured[key] == plain[key], key


def test_import_heapsnap_leaves_nothing_for_the_collector(python):
    """What dump() needs loaded (import heapsnap) leaves no garbage and imports nothing but
    the package and its capture module (it imported glob, re and enum, whose classes left 6
    objects for the collector on 3.12)."""
    env = python_env()
    plain = startup_trace(run([python, fixture("startup_trace.py")], env=env))
    imported = startup_trace(run([python, fixture("startup_trace.py"), "import"], env=env))
    assert imported["collected"] == plain["collected"] == 0
    assert set(imported["modules"]) - set(plain["modules"]) == {
        "heapsnap", "heapsnap." + native_module(python)}


def test_capture_without_a_module_says_so_first(python, tmp_path):
    """An interpreter heapsnap has no capture module for: the first thing said is that the
    capture could not start and why, naming the versions that are built; the program is not
    run, and nothing claims it exited with code 2."""
    from conftest import BUILD
    lib = tmp_path / "lib"
    shutil.copytree(os.path.join(BUILD, "lib", "heapsnap"), lib)
    package = lib / "python" / "heapsnap"
    for name in os.listdir(package):
        if name.startswith(native_module(python) + "."):
            os.remove(package / name)
    version = run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
    marker = tmp_path / "ran"
    result = heapsnap("capture", "-o", tmp_path / "x.heapsnap", "--", python, "-c",
                      "open(%r, 'w').write('ran')" % str(marker), check=False,
                      env=dict(os.environ, HEAPSNAP_LIBDIR=str(lib)))
    assert result.returncode == 2
    assert not marker.exists()
    lines = result.stderr.splitlines()
    assert lines[0].startswith(
        "heapsnap: the capture could not start, so the program was not run: no capture module "
        "for Python %s (%s); this installation has modules for: " % (version.stdout.strip(),
                                                                     python)), lines
    assert len(lines) == 1, lines
    assert "exited with code" not in result.stderr


def test_capture_that_was_never_loaded_says_so(python, tmp_path):
    """python -I ignores PYTHONPATH: the capture never started, and heapsnap says that rather
    than blaming the way the program exited."""
    result = heapsnap("capture", "-o", tmp_path / "x.heapsnap", "--", python, "-I", "-c", "pass",
                      check=False)
    assert result.returncode == 2
    assert "the capture was never loaded" in result.stderr, result.stderr
    assert not (tmp_path / "x.heapsnap").exists()


@pytest.mark.parametrize("mode,code", [("end", 0), ("exit", 3), ("raise", 1)])
def test_at_exit_snapshot_is_taken_before_the_exit_takes_things_apart(python, tmp_path, mode,
                                                                      code):
    """The snapshot at exit is taken when the main module has finished (at its end, by
    sys.exit, by an uncaught exception), before threads are joined and before atexit handlers
    run: what only an atexit handler holds, what one clears, and a running thread's
    thread-local and frame locals are in it."""
    snap = tmp_path / "exit.heapsnap"
    result = heapsnap("capture", "-o", snap, "--", python, fixture("at_exit.py"), mode,
                      check=False)
    assert result.returncode == code, result.stderr
    assert "snapshot written to" in result.stderr
    if mode == "raise":
        assert "RuntimeError: the program failed" in result.stderr
    summary = heapsnap_json("summary", snap)
    assert summary["reason"] == "exit"
    types = {t["type"]: t["count"] for t in summary["types"]}
    assert types.get("__main__.HeldByAtexit") == 1
    assert types.get("__main__.ClosedAtExit") == 3
    assert types.get("__main__.CachedItem") == 5
    assert types.get("__main__.ThreadLocalItem") == 1
    assert types.get("__main__.WorkerLocalItem") == 1
    text = heapsnap("path", snap, "--type", "WorkerLocalItem").stdout
    assert text.startswith("thread 'worker' work ("), text


def test_at_exit_snapshot_when_the_program_replaced_threading_shutdown(python, tmp_path):
    """A program that replaces threading._shutdown (gevent does) still gets its snapshot, from
    the atexit handler the capture registered first, which runs last."""
    snap = tmp_path / "exit.heapsnap"
    heapsnap("capture", "-o", snap, "--", python, fixture("at_exit.py"), "replaced")
    assert heapsnap_json("summary", snap)["reason"] == "exit"


def test_snapshot_files_are_private_and_replace_only_regular_files(python, tmp_path):
    """Snapshots are 0600 whatever the umask, also when they replace a 0644 one; dump() onto
    something that is not a regular file raises OSError and leaves it as it was; capture
    refuses such an output before it runs the program."""
    snap = tmp_path / "replaced.heapsnap"
    snap.write_text("an older snapshot")
    os.chmod(snap, 0o644)
    heapsnap("capture", "-o", snap, "--", python, fixture("exit_code.py"), "0",
             preexec_fn=lambda: os.umask(0))
    assert stat.S_IMODE(os.stat(snap).st_mode) == 0o600
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    directory = tmp_path / "a-directory"
    directory.mkdir()
    kept = tmp_path / "kept"
    kept.write_text("kept")
    link = tmp_path / "a-link"
    link.symlink_to(kept)
    code = ("import heapsnap, sys\n"
            "for path in sys.argv[1:]:\n"
            "    try:\n"
            "        heapsnap.dump(path)\n"
            "    except OSError as error:\n"
            "        print(error)\n"
            "    else:\n"
            "        print('written to', path)\n")
    targets = {"/dev/null": "a character device", str(fifo): "a fifo",
               str(directory): "a directory", str(link): "a symbolic link"}
    out = run([python, "-c", code] + list(targets), env=python_env())
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "heapsnap: %s: exists and is %s; a snapshot replaces only a regular file (choose another "
        "path)" % (path, what) for path, what in targets.items()]
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and directory.is_dir() and link.is_symlink()
    assert kept.read_text() == "kept"
    assert sorted(os.listdir(tmp_path)) == ["a-directory", "a-fifo", "a-link", "kept",
                                            "replaced.heapsnap"]
    marker = tmp_path / "ran"
    result = heapsnap("capture", "-o", fifo, "--", python, "-c",
                      "open(%r, 'w').write('ran')" % str(marker), check=False)
    assert result.returncode == 2
    assert "exists and is a fifo" in result.stderr
    assert not marker.exists()


def test_other_threads_frames_are_roots(python, tmp_path):
    snap = tmp_path / "threads.heapsnap"
    run_result = run([python, fixture("threads.py"), str(tmp_path / "facts.json"), str(snap)],
                     env=python_env())
    assert run_result.returncode == 0, run_result.stderr
    facts = json.load(open(tmp_path / "facts.json"))
    text = heapsnap("path", snap, "--id", facts["worker_local"]).stdout
    assert text.startswith("thread 'worker-1' work ("), text
    assert ": worker_local" in text


def test_capture_keeps_the_programs_own_sitecustomize(python, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    marker = tmp_path / "marker"
    (site / "sitecustomize.py").write_text("open(%r, 'w').write('ran')\n" % str(marker))
    env = dict(os.environ, PYTHONPATH=str(site))
    snap = tmp_path / "site.heapsnap"
    heapsnap("capture", "-o", snap, "--", python, fixture("exit_code.py"), "0", env=env)
    assert marker.read_text() == "ran"
    assert snap.exists()


# Secrets of every shape; the fixture gets them from its environment, as programs do.
TOKENS = {
    "GITHUB": "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "HEX_LETTER": "deadbeefcafe0123456789abcdef0123",  # a session id that looks like a name
    "HEX_DIGIT": "9f86d081884c7d659a2feaa0c55ad015",
    "STRIPE": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "AWS": "AKIAIOSFODNN7EXAMPLE",
    "PASSWORD": "s3cr3tPassw0rd",
    "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl",
    "UUID": "123e4567-e89b-12d3-a456-426614174000",
}
ATTRIBUTE_NAME = "ghp_setattrName0123456789abcdefABCDEF"


def secrets_env():
    env = dict(os.environ, HEAPSNAP_TEST_ATTRIBUTE_NAME=ATTRIBUTE_NAME)
    env.update(("HEAPSNAP_TEST_SECRET_" + k, v) for k, v in TOKENS.items())
    return env


def test_no_values_keeps_secrets_out_of_the_file(python, tmp_path):
    """With --no-values no secret is in the file's bytes, whether a program holds it as a
    value, a dict key (identifier-like ones too: a key keeps its text only when it is
    interned, a name the program's code uses), a tuple key's item, an attribute value, a
    default, a closure cell, a running thread's local, or a key written into an instance's
    __dict__."""
    literal = [b"ada@example.com", b"hunter2-password", b"token-abc123-secret", b"987654321987"]
    tokens = [t.encode() for t in TOKENS.values()]
    with_values = tmp_path / "with.heapsnap"
    without = tmp_path / "without.heapsnap"
    heapsnap("capture", "-o", with_values, "--", python, fixture("secrets.py"), env=secrets_env())
    heapsnap("capture", "--no-values", "-o", without, "--", python, fixture("secrets.py"),
             env=secrets_env())
    data = with_values.read_bytes()
    assert all(secret in data for secret in literal + tokens)  # the test sees them when there
    data = without.read_bytes()
    for secret in literal + tokens:
        assert secret not in data, secret
    # Keys that are not names of the program are replaced by their length; the structure and
    # the names the program's code uses are still there.
    paths = heapsnap_json("path", without, "--type", "str", "--max", "0")["paths"]
    texts = [p["text"] for p in paths]
    # (Through sys.modules['__main__'], or the running thread's f_globals on 3.8-3.10.)
    assert any("ACCOUNTS" in t and "[<str of 15 chars>]" in t for t in texts), texts
    # sys.modules['__main__']'s key is not interned, but a module's name is kept.
    modules = [p["text"] for p in heapsnap_json("path", without, "--type", "module", "--max",
                                                  "0")["paths"]]
    assert "sys.modules['__main__']" in modules, modules
    sessions = [p["target"]["id"] for p in heapsnap_json("path", without, "--type", "dict",
                                                          "--max", "0")["paths"]
                if p["text"].endswith(("SESSIONS", "['SESSIONS']"))]
    assert len(sessions) == 1, sessions
    sessions = int(sessions[0], 16)
    labels = [e["label"] for e in Objects(without, [sessions])[sessions]["edges"]]
    for length in (40, 32, 36):  # the GitHub token, the hex session ids, the UUID
        assert "[<str of %d chars>]" % length in labels, labels
    # An attribute name set with setattr is interned by CPython (PyObject_SetAttr), like the
    # names in code: it keeps its text, as the README says.
    assert ATTRIBUTE_NAME.encode() in data


def test_dump_without_values_keeps_a_running_functions_secrets_out(python, tmp_path):
    """dump(values=False) from inside a function: its locals, and everything above, stay out."""
    snap = tmp_path / "dump.heapsnap"
    out = run([python, fixture("secrets.py"), "dump", str(snap)],
              env=dict(secrets_env(), PYTHONPATH=python_env()["PYTHONPATH"]))
    assert out.returncode == 0, out.stderr
    data = snap.read_bytes()
    for secret in TOKENS.values():
        assert secret.encode() not in data, secret
    text = heapsnap("path", snap, "--type", "str", "--max", "0").stdout
    assert "<local local_secret>" in text or "local_secret" in text, text


def test_dict_key_labels(python, tmp_path):
    """Key labels read the same whether the capture refers to the key objects (values on,
    long enough previews) or writes the text as a label string; without values only
    identifier-like str keys keep their text."""
    facts_path = tmp_path / "facts.json"
    prefix = str(tmp_path / "keys")
    run([python, fixture("dict_keys.py"), str(facts_path), prefix], env=python_env())
    with open(facts_path) as f:
        dict_id = json.load(f)["dict"]
    expected = [
        "['plain']", "['']", "['it\\'s']", "['back\\\\slash']", "['line\\x0abreak']",
        "['" + "x" * 80 + "']", "['" + "k" * 80 + "...']", "['" + "\u00e9" * 40 + "...']",
        "['" + "\u4e2d" * 26 + "...']", "['lone\\\\ud800surrogate']", "[('t', 1)]", "[2.5]",
        "[b'raw']", "[None]", "[7]", "[<int>]",
    ]

    def labels(snapshot, wanted):
        edges = Objects(snapshot, [dict_id])[dict_id]["edges"]
        return [e["label"] for e in edges if e["label"].startswith(wanted)]

    refs = labels(prefix + "-refs.heapsnap", "[")
    assert refs == expected
    # The first snapshot refers to the key objects; the second has the label strings.
    with open(prefix + "-refs.heapsnap", "rb") as f:
        assert b"'back\\\\slash'" not in f.read()
    with open(prefix + "-strings.heapsnap", "rb") as f:
        assert b"'back\\\\slash'" in f.read()
    assert labels(prefix + "-strings.heapsnap", "[") == expected
    keys = labels(prefix + "-refs.heapsnap", "<key ")
    assert keys == ["<key %s>" % label[1:-1] for label in expected]
    no_values = labels(prefix + "-novalues.heapsnap", "[")
    assert no_values[:3] == ["['plain']", "[<str of 0 chars>]", "[<str of 4 chars>]"]
    assert "[<int>]" in no_values and "[<float>]" in no_values and "[<bytes of 3>]" in no_values


def test_threaded_and_serial_captures_agree(python, tmp_path):
    """The emitter thread changes where the work runs, not what is written: every object of a
    varied heap (instances, slots, closures, defaults, str/int/odd dict keys, floats, a
    frozenset) reads the same in a threaded and a single-threaded capture of it."""
    facts_path = tmp_path / "facts.json"
    prefix = str(tmp_path / "modes")
    run([python, fixture("capture_modes.py"), str(facts_path), prefix], env=python_env())
    with open(facts_path) as f:
        ids = json.load(f)["ids"]
    assert len(ids) > 15000
    for start in range(0, len(ids), 12000):  # within the limits of one command line
        chunk = ids[start:start + 12000]
        serial = Objects(prefix + "-serial.heapsnap", chunk)
        threaded = Objects(prefix + "-thread.heapsnap", chunk)
        assert len(serial.by_id) == len(chunk)
        for object_id in chunk:
            assert serial[object_id] == threaded[object_id], hex(object_id)


def test_large_containers_are_labelled_exactly(python, tmp_path):
    """Dicts and lists big enough for the walk to match their labels itself and cut their edges
    across batches: every entry is there once, with its label and the right kind."""
    facts_path = tmp_path / "facts.json"
    prefix = str(tmp_path / "modes")
    run([python, fixture("capture_modes.py"), str(facts_path), prefix], env=python_env())
    with open(facts_path) as f:
        facts = json.load(f)
    big, probes = facts["big"], facts["probes"]
    for snapshot in (prefix + "-serial.heapsnap", prefix + "-thread.heapsnap"):
        objects = Objects(snapshot, list(big.values()))
        str_keys = objects[big["big_str_keys"]]["edges"]
        assert len(str_keys) == 2 * 20000
        labels = [e["label"] for e in str_keys]
        assert labels.count("['key-12345']") == 1 and labels.count("<key 'key-12345'>") == 1
        assert objects.target(big["big_str_keys"], "['key-12345']") == probes["str_key_value"]
        assert all(e["kind"] == "strong" for e in str_keys if e["label"].startswith("<key"))
        assert sum(1 for e in str_keys if e["label"].startswith("['")) == 20000
        mixed = objects[big["big_mixed_keys"]]["edges"]
        assert len(mixed) == 2 * 36000
        assert objects.target(big["big_mixed_keys"], "[7777]") == probes["int_key_value"]
        assert objects.target(big["big_mixed_keys"], "['s7777']") == probes["str_key_float"]
        assert objects.edge(big["big_mixed_keys"], "[('t', 7777)]")["target_type"] == "NoneType"
        assert not any(e["label"].startswith("<tp_traverse#") for e in mixed)
        items = objects[big["big_list"]]["edges"]
        assert len(items) == 40000
        assert objects.target(big["big_list"], "[31337]") == probes["list_item"]
        assert all(e["kind"] == "traverse" for e in items)
        members = objects[big["big_set"]]["edges"]
        assert len(members) == 20000
        assert all(e["label"] == "{member}" and e["kind"] == "traverse" for e in members)
        assert objects.target(big["big_deque"], "[12345]") == probes["deque_item"]
        deque_items = [e for e in objects[big["big_deque"]]["edges"] if e["label"][0] == "["]
        assert len(deque_items) == 20000  # (3.12+ also list the type: a heap type there)
