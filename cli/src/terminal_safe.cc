#include "terminal_safe.h"

#include <sstream>

#include "heapsnap/base/hex.h"
#include "heapsnap/base/utf8.h"

namespace heapsnap::cli {

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
    const Utf8Lead lead = Utf8LeadOf(pending_[0]);
    const bool fits =
        have_ == 1 ? c >= lead.second_min && c <= lead.second_max : (c & 0xC0) == 0x80;
    if (fits) {
      pending_[have_++] = c;
      if (have_ < need_) return;
      if (need_ == 2 && IsC1Control(pending_[0], pending_[1])) {
        std::string escaped;
        AppendControlEscape(pending_[1], &escaped);
        Emit(escaped);
      } else {
        Emit(std::string_view(reinterpret_cast<const char*>(pending_), static_cast<size_t>(have_)));
      }
      have_ = need_ = 0;
      return;
    }
    FlushPending();  // cut short: the bytes so far are not UTF-8
  }
  if (c >= 0x80) {
    need_ = Utf8LeadOf(c).length;
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
