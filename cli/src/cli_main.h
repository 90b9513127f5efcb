// The whole command line as one function, so that the executable is one line and the exit code
// is decided in one place: 0 ok, 1 a check failed, 2 usage or input error (a Status, an
// exception, memory exhausted); `capture` passes the captured program's own exit code through.
#ifndef HEAPSNAP_CLI_CLI_MAIN_H_
#define HEAPSNAP_CLI_CLI_MAIN_H_

namespace heapsnap::cli {

int Main(int argc, char** argv) noexcept;

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_CLI_MAIN_H_
