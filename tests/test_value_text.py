"""The capture's text of Python values (capture/src/value_text.cc) on real objects, under every
interpreter: dict key reprs and value previews must read as Python's own repr() does, and a
snapshot without values must keep only program names. Runs through the test-only extension
module capture/src/value_text_test_module.cc, which the build puts in lib/heapsnap/test_modules."""
import os
import subprocess

from conftest import BUILD

MODULES = os.path.join(BUILD, "lib", "heapsnap", "test_modules")

CHECKS = r'''
import importlib, math, sys
sys.path.insert(0, sys.argv[1])
t = importlib.import_module("_value_text_test_%08x" % sys.hexversion)

# Keys read as Python writes them: numbers, constants, tuples and plain strs exactly as repr().
for key in ["ada", "", "a\\b", "caf\u00e9", 0, -7, 2**40, 1.5, -0.0, 1e100, float("inf"),
            True, False, None, (1, "a"), ("one",), ()]:
    assert t.key_repr(key, True) == repr(key), (key, t.key_repr(key, True), repr(key))
assert t.key_repr(float("nan"), True) == "nan"
# Where heapsnap's one rule (base/python_text.h: always single quotes, a quote or backslash
# escaped, control characters and bytes beyond printable ASCII as \xNN) differs from repr().
assert t.key_repr("it's", True) == "'it\\'s'"
assert t.key_repr("line\nbreak", True) == "'line\\x0abreak'"
assert t.key_repr(b"raw\x00\xff'", True) == "b'raw\\x00\\xff\\x27'"
# Long str keys are cut at 80 bytes, never inside a character, and say so.
assert t.key_repr("x" * 100, True) == "'" + "x" * 80 + "...'"
assert t.key_repr("\u20ac" * 30, True) == "'" + "\u20ac" * 26 + "...'"
# Classes and other objects by name.
assert t.key_repr(int, True) == "<class int>"
o = object()
assert t.key_repr(o, True) == "<object 0x%x>" % id(o)

# Without values: a str key keeps its text only when it is a name of the program (interned)
# and looks like one; numbers and bytes keep only their kind.
name = sys.intern("session_id")
data = "".join(["tok", "en-", "123"])  # made at run time: not interned
assert t.key_repr(name, False) == "'session_id'"
assert t.key_repr(data, False) == "<str of 9 chars>"
assert t.key_repr(42, False) == "<int>" and t.key_repr(1.5, False) == "<float>"
assert t.key_repr(b"secret", False) == "<bytes of 6>"
assert t.kept_without_values("session_id")
assert not t.kept_without_values("caf\u00e9")  # only ASCII names are kept
assert not t.kept_without_values("x" * 65)     # and only short ones
assert not t.kept_without_values("has space")

# Previews: the text and the full length (characters, bytes or decimal digits).
assert t.preview("hello", 100) == ("hello", 5)
assert t.preview("hello world", 5) == ("hello", 11)
assert t.preview(b"ab\x00", 100) == ("ab\x00", 3)
assert t.preview(True, 100) == ("True", 4)
assert t.preview(12345, 100) == ("12345", 5)
assert t.preview(2 ** 62, 100) == (str(2 ** 62), 19)
assert t.preview(-(10 ** 30), 100) == ("<int of 100 bits>", 31)  # too big to print cheaply
for d in [0.1, 3.0, -0.0, 1e16, 2.5e-300, float("inf")]:
    assert t.preview(d, 100)[0] == repr(d), (d, t.preview(d, 100), repr(d))
assert t.preview([], 100) is None
print("ok")
'''


def test_value_text_reads_as_python_does(python):
    result = subprocess.run([python, "-c", CHECKS, MODULES], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr
