// The injector that `heapsnap capture --pid` loads into a running Python (through gdb: dlopen,
// then heapsnap_inject_spawn). One library for every CPython version: it includes no Python.h
// and declares the few stable-ABI functions it calls, which the dynamic loader resolves from
// the process (libpython, or a python executable linked with --export-dynamic) at dlopen.
//
// heapsnap_inject_spawn only starts a thread, and returns. The thread that gdb stopped may be
// anywhere in the interpreter (in the middle of changing the collector's lists, say): Python
// must never run on it. The new thread takes the GIL like any C thread (PyGILState_Ensure),
// then claims the request by renaming DIR/request to DIR/claimed. The command line renames the
// request to DIR/cancelled when it gives up waiting, so a thread that obtains the GIL too late
// finds nothing and does nothing. The request is Python source (the payload, with its
// arguments) that the thread runs with fresh globals, never in __main__'s namespace; the
// payload writes DIR/result itself.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Only pointers to objects cross this file, so the struct stays opaque (and unnamed after
// CPython's reserved `_object`).
typedef struct InjectorPyObject PyObject;
typedef enum { kPyGILStateLocked, kPyGILStateUnlocked } PyGILState_STATE;
enum { kPyFileInput = 257 };  // Py_file_input, the same on every version

extern PyGILState_STATE PyGILState_Ensure(void);
extern void PyGILState_Release(PyGILState_STATE state);
extern PyObject* PyRun_StringFlags(const char* source, int start, PyObject* globals,
                                   PyObject* locals, void* flags);
extern PyObject* PyDict_New(void);
extern PyObject* PyEval_GetBuiltins(void);
extern int PyDict_SetItemString(PyObject* dict, const char* key, PyObject* value);
extern void PyErr_Clear(void);
extern void Py_DecRef(PyObject* object);

enum { kMaxRequestBytes = 1 << 20 };

// The request's text, NUL-terminated, or NULL.
static char* ReadFile(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  char* text = malloc(kMaxRequestBytes + 1);
  size_t size = 0;
  while (text != NULL && size < kMaxRequestBytes) {
    ssize_t n = read(fd, text + size, kMaxRequestBytes - size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    size += (size_t)n;
  }
  close(fd);
  if (text != NULL) text[size] = '\0';
  return text;
}

// Written only when the payload could not report for itself (it catches everything it can).
static void WriteFallbackResult(const char* dir, const char* message) {
  char temporary[PATH_MAX];
  char result[PATH_MAX];
  snprintf(temporary, sizeof(temporary), "%s/result.tmp", dir);
  snprintf(result, sizeof(result), "%s/result", dir);
  int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  size_t length = strlen(message);
  ssize_t written = write(fd, message, length);
  close(fd);
  if (written == (ssize_t)length) rename(temporary, result);
}

static void RunRequest(const char* dir) {
  char request[PATH_MAX];
  char claimed[PATH_MAX];
  snprintf(request, sizeof(request), "%s/request", dir);
  snprintf(claimed, sizeof(claimed), "%s/claimed", dir);
  if (rename(request, claimed) != 0) return;  // cancelled, or never written: nothing to do
  char* source = ReadFile(claimed);
  if (source == NULL) {
    WriteFallbackResult(dir, "error\nthe injected thread could not read its request\n");
    return;
  }
  PyObject* globals = PyDict_New();
  if (globals == NULL || PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) != 0) {
    PyErr_Clear();
    WriteFallbackResult(dir, "error\nthe injected thread could not make a namespace\n");
  } else {
    PyObject* result = PyRun_StringFlags(source, kPyFileInput, globals, globals, NULL);
    if (result == NULL) {
      PyErr_Clear();
      WriteFallbackResult(dir, "error\nthe attach payload raised before it could report\n");
    } else {
      Py_DecRef(result);
    }
  }
  if (globals != NULL) Py_DecRef(globals);
  free(source);
}

static void* InjectedThread(void* arg) {
  char* dir = arg;
  PyGILState_STATE state = PyGILState_Ensure();
  RunRequest(dir);
  PyGILState_Release(state);
  free(dir);
  return NULL;
}

// Called by gdb in the stopped target. Returns 0, or an errno value. The thread blocks every
// signal, so that the process's signals keep going to its own threads.
__attribute__((visibility("default"))) int heapsnap_inject_spawn(const char* dir) {
  char* copy = strdup(dir);
  if (copy == NULL) return ENOMEM;
  pthread_attr_t attr;
  int error = pthread_attr_init(&attr);
  if (error != 0) {
    free(copy);
    return error;
  }
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t thread;
  error = pthread_create(&thread, &attr, InjectedThread, copy);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (error != 0) free(copy);
  return error;
}
