#include "terminal_safe.h"

#include <sstream>

#include "heapsnap/base/hex.h"

namespace heapsnap::cli {
namespace {

int SequenceLength(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

}  // namespace

std::string TerminalSafe(std::string_view text) {
  std::ostringstream out;
  {
    TerminalSafeBuffer safe(out.rdbuf());
    safe.sputn(text.data(), static_cast<std::streamsize>(text.size()));
  }
  return out.str();
}

TerminalSafeBuffer::~TerminalSafeBuffer() { FlushPending(); }

void TerminalSafeBuffer::FlushPending() {
  std::string escaped;
  for (int i = 0; i < have_; ++i) AppendHexEscape(pending_[i], &escaped);
  have_ = need_ = 0;
  Emit(escaped);
}

void TerminalSafeBuffer::Put(unsigned char c) {
  if (need_ > 0) {
    if ((c & 0xC0) == 0x80) {
      pending_[have_++] = c;
      if (have_ < need_) return;
      // C1 controls are U+0080..U+009F: C2 80..C2 9F.
      if (need_ == 2 && pending_[0] == 0xC2 && pending_[1] < 0xA0) {
        const char code[] = {
            '\\', 'u', '0', '0', kHexDigits[pending_[1] >> 4], kHexDigits[pending_[1] & 15]};
        Emit(std::string_view(code, sizeof(code)));
      } else {
        Emit(std::string_view(reinterpret_cast<const char*>(pending_), static_cast<size_t>(have_)));
      }
      have_ = need_ = 0;
      return;
    }
    FlushPending();  // cut short: the bytes so far are not UTF-8
  }
  if (c >= 0x80) {
    need_ = SequenceLength(c);
    if (need_ == 0) {
      std::string escaped;
      AppendHexEscape(c, &escaped);
      Emit(escaped);
      return;
    }
    pending_[0] = c;
    have_ = 1;
    return;
  }
  if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
    std::string escaped;
    AppendHexEscape(c, &escaped);
    Emit(escaped);
    return;
  }
  const char ch = static_cast<char>(c);
  Emit(std::string_view(&ch, 1));
}

TerminalSafeBuffer::int_type TerminalSafeBuffer::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  Put(static_cast<unsigned char>(traits_type::to_char_type(c)));
  return c;
}

std::streamsize TerminalSafeBuffer::xsputn(const char* s, std::streamsize n) {
  // The common case, printable ASCII, goes out in runs.
  std::streamsize i = 0;
  while (i < n) {
    std::streamsize j = i;
    while (need_ == 0 && j < n) {
      const auto c = static_cast<unsigned char>(s[j]);
      if (c >= 0x80 || c == 0x7f || (c < 0x20 && c != '\n' && c != '\t')) break;
      ++j;
    }
    if (j > i) {
      out_->sputn(s + i, j - i);
      i = j;
      continue;
    }
    Put(static_cast<unsigned char>(s[i++]));
  }
  return n;
}

int TerminalSafeBuffer::sync() { return out_->pubsync(); }

}  // namespace heapsnap::cli
