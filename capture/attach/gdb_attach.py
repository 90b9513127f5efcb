# Run by gdb (`gdb -batch -nx -nw -p PID -x gdb_attach.py`) for `heapsnap capture --pid`: loads
# the injector into the stopped target and calls heapsnap_inject_spawn(DIR), which starts a
# thread and returns; Python never runs on a thread gdb stopped. Then detaches, on every path.
#
# Where it calls: a thread that is not inside the allocator, the dynamic loader,
# pthread_create or fork (by its backtrace), so that dlopen and pthread_create cannot wait on a
# lock that thread holds. gdb's default scheduler-locking lets the other threads run during the
# call and release the locks they hold (Memray removed `scheduler-locking on` for that reason).
# An idle process (one thread blocked in read(2)) is called right away this way. Only when
# every thread is in such a function do breakpoints at the entries of malloc/free/... (where no
# allocator lock is held yet) and a pending call (which wakes the eval loop) wait for one; the
# command line interrupts gdb when its timeout expires.
#
# Arguments come from the environment: HEAPSNAP_ATTACH_LIBRARY (the injector),
# HEAPSNAP_ATTACH_DIR (the request directory as the target sees it) and
# HEAPSNAP_ATTACH_BREAKPOINTS=1 (take the breakpoint path even when a thread is safe: tests).
# Each outcome is one line "heapsnap-attach: WORD [detail]", which the command line classifies.
import os
import re

import gdb

# glibc's allocator, loader, thread creation and fork (by their names without leading
# underscores). Not obmalloc's pymalloc_* and arena_map_*: they run under the GIL, take no lock,
# and a thread inside them may call dlopen and pthread_create.
UNSAFE_NAMES = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
    "aligned_alloc", "valloc", "pvalloc", "cfree", "sysmalloc", "systrim", "pthread_create",
    "fork", "Fork", "vfork", "arena_get2", "arena_get_retry", "reused_arena",
    "get_free_list", "arena_thread_freeres",
}
UNSAFE_PREFIXES = ("dl", "_dl_", "_int_", "malloc_", "tcache", "libc_dl", "fork_",
                   "run_fork_handlers", "pthread_create")
BREAKPOINT_FUNCTIONS = ("malloc", "calloc", "realloc", "free", "PyErr_CheckSignals",
                        "PyCallable_Check")


def say(word, detail=""):
    print(("heapsnap-attach: %s %s" % (word, detail)).rstrip(), flush=True)


def bare_name(name):
    """malloc for __GI___libc_malloc, __libc_malloc, malloc@plt, _int_malloc stays."""
    name = name.split("@")[0]
    name = re.sub(r"^(__GI_)?_*", "", name)
    if name.startswith("libc_") and not name.startswith("libc_dl"):
        name = name[len("libc_"):]
    return name


def is_unsafe(name):
    if not name:
        return False
    if name.startswith("_int_") or name.startswith("_dl_"):
        return True
    bare = bare_name(name)
    return bare in UNSAFE_NAMES or bare.startswith(UNSAFE_PREFIXES)


def unsafe_frame(thread, skip=0):
    """The first frame of the thread's stack (after the `skip` newest) that makes a call there
    unsafe, or None. (clone/clone3 and start_thread are every thread's base frames: safe.)"""
    thread.switch()
    try:
        frame = gdb.newest_frame()
        for _ in range(skip):
            frame = frame.older() if frame is not None else None
    except gdb.error:
        return "<no stack>"
    for _ in range(128):
        if frame is None:
            return None
        try:
            name = frame.name()
        except gdb.error:
            name = None
        if is_unsafe(name):
            return name
        try:
            frame = frame.older()
        except gdb.error:
            return None
    return None


def c_string(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def evaluate(expression):
    return int(gdb.parse_and_eval(expression))


def inject(library, request_dir):
    """In the selected thread: dlopen the injector and start its thread."""
    if evaluate("((int (*)(void))Py_IsInitialized)()") == 0:
        say("not-initialized")
        return
    if evaluate("((int (*)(const char *, int))access)(%s, 4)" % c_string(library)) != 0:
        say("cannot-read-library", library)
        return
    handle = evaluate("((void *(*)(const char *, int))dlopen)(%s, 2)" % c_string(library))
    if handle == 0:
        message = gdb.parse_and_eval("((char *(*)(void))dlerror)()").string()
        say("dlopen-failed", message)
        return
    spawn = evaluate("((void *(*)(void *, const char *))dlsym)((void *)%d, %s)"
                     % (handle, c_string("heapsnap_inject_spawn")))
    if spawn == 0:
        say("dlopen-failed", "no heapsnap_inject_spawn in " + library)
        return
    error = evaluate("((int (*)(const char *))%d)(%s)" % (spawn, c_string(request_dir)))
    if error != 0:
        say("spawn-failed", os.strerror(error))
        return
    say("spawned")


def wait_at_breakpoints():
    """Memray's way: stop at the entry of an allocator function (no lock held yet) or of a
    function the eval loop calls, nudged by a pending call. Returns True when stopped at one
    where a call is safe; False when interrupted (the command line's timeout)."""
    breakpoints = []
    for function in BREAKPOINT_FUNCTIONS:
        try:
            gdb.parse_and_eval("(long)&" + function)
        except gdb.error:
            continue
        breakpoints.append(gdb.Breakpoint(function, internal=True))
    try:
        # Wakes a main thread that runs Python but calls no allocator function.
        evaluate("((int (*)(void *, void *))Py_AddPendingCall)((void *)&PyCallable_Check, 0)")
        while True:
            say("waiting", "for a safe point (breakpoints at %s)" % ", ".join(BREAKPOINT_FUNCTIONS))
            gdb.execute("continue", to_string=True)
            thread = gdb.selected_thread()
            if thread is None or not thread.is_valid():
                return False
            # Stopped for another reason than a breakpoint (the interrupt): give up.
            frame_name = gdb.newest_frame().name() or ""
            if bare_name(frame_name) not in {bare_name(f) for f in BREAKPOINT_FUNCTIONS}:
                return False
            # At a function's entry: safe unless a caller is in the allocator, the loader or
            # fork (malloc called by dlopen holds the loader's lock).
            if unsafe_frame(thread, skip=1) is None:
                return True
    except (KeyboardInterrupt, gdb.error):
        return False
    finally:
        for breakpoint in breakpoints:
            breakpoint.delete()


def main():
    library = os.environ["HEAPSNAP_ATTACH_LIBRARY"]
    request_dir = os.environ["HEAPSNAP_ATTACH_DIR"]
    force_breakpoints = os.environ.get("HEAPSNAP_ATTACH_BREAKPOINTS") == "1"
    inferior = gdb.selected_inferior()
    if inferior.pid == 0:
        say("not-attached")
        return
    try:
        gdb.parse_and_eval("(long)&PyGILState_Ensure")
    except gdb.error:
        say("not-python")
        return
    say("attached", "%d threads" % len(inferior.threads()))
    safe = None
    if not force_breakpoints:
        for thread in sorted(inferior.threads(), key=lambda t: t.num):
            reason = unsafe_frame(thread)
            if reason is None:
                safe = thread
                break
            say("unsafe-thread", "%d in %s" % (thread.num, reason))
    if safe is not None:
        safe.switch()
    elif not wait_at_breakpoints():
        say("no-safe-point")
        return
    inject(library, request_dir)


gdb.execute("set pagination off")
gdb.execute("set confirm off")
gdb.execute("set unwindonsignal on")
gdb.execute("set print thread-events off")
try:
    main()
except BaseException as error:  # noqa: B036 - report anything, then detach below
    say("gdb-error", str(error).replace("\n", " "))
finally:
    try:
        gdb.execute("detach", to_string=True)
        say("detached")
    except gdb.error as error:
        say("detach-failed", str(error).replace("\n", " "))
