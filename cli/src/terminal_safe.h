// Text output that cannot drive the terminal. Snapshots are untrusted and hold the program's
// strings: a str with terminal escape sequences (window titles, clipboard writes through OSC 52)
// would otherwise reach the user's terminal through `objects`, `path` or `leaks`. Installed on
// std::cout and std::cerr by cli_main.cc, so every command's text goes through one rule:
//
//   TerminalSafeBuffer safe(std::cout.rdbuf());
//   std::cout.rdbuf(&safe);   // "\x1b]0;pwned\x07" prints as \x1b]0;pwned\x07
//
// Control characters (C0 but newline and tab, DEL, and C1 U+0080-U+009F) print as \xNN or
// \u00NN, bytes that are not UTF-8 as \xNN; everything else passes unchanged. JSON output has
// no raw control characters to begin with, so it is unchanged too.
#ifndef HEAPSNAP_CLI_TERMINAL_SAFE_H_
#define HEAPSNAP_CLI_TERMINAL_SAFE_H_

#include <streambuf>
#include <string>
#include <string_view>

namespace heapsnap::cli {

// The rule itself, for a whole string.
std::string TerminalSafe(std::string_view text);

class TerminalSafeBuffer : public std::streambuf {
 public:
  explicit TerminalSafeBuffer(std::streambuf* out) : out_(out) {}
  ~TerminalSafeBuffer() override;

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* s, std::streamsize n) override;
  int sync() override;

 private:
  void Put(unsigned char c);
  void Emit(std::string_view bytes) {
    out_->sputn(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  void FlushPending();  // an unfinished UTF-8 sequence, escaped

  std::streambuf* out_;
  unsigned char pending_[4] = {};
  int have_ = 0;  // bytes of a UTF-8 sequence seen
  int need_ = 0;  // bytes it has in all
};

}  // namespace heapsnap::cli

#endif  // HEAPSNAP_CLI_TERMINAL_SAFE_H_
