// The name and the init function of an extension module whose name the build gives in
// HEAPSNAP_MODULE_NAME (one module per interpreter version, so the name carries the version):
// the capture's own module and the test-only one.
#ifndef HEAPSNAP_CAPTURE_MODULE_INIT_H_
#define HEAPSNAP_CAPTURE_MODULE_INIT_H_

#ifndef HEAPSNAP_MODULE_NAME
#error "HEAPSNAP_MODULE_NAME must be defined by the build"
#endif

#define HEAPSNAP_STR2(x) #x
#define HEAPSNAP_STR(x) HEAPSNAP_STR2(x)
#define HEAPSNAP_CONCAT2(a, b) a##b
#define HEAPSNAP_CONCAT(a, b) HEAPSNAP_CONCAT2(a, b)

// The module's name, as a C string.
#define HEAPSNAP_MODULE_NAME_TEXT HEAPSNAP_STR(HEAPSNAP_MODULE_NAME)

// The head of the module's init function, exported by hand: before 3.9, PyMODINIT_FUNC does not
// mark it visible, and the modules hide every other symbol.
// A declaration head cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define HEAPSNAP_MODULE_INIT                                                   \
  extern "C" __attribute__((visibility("default"))) PyObject* HEAPSNAP_CONCAT( \
      PyInit_, HEAPSNAP_MODULE_NAME)(void)
// NOLINTEND(bugprone-macro-parentheses)

#endif  // HEAPSNAP_CAPTURE_MODULE_INIT_H_
