// Status and StatusOr: how every heapsnap library reports failure. No exception crosses a
// library API; the command line turns a Status into one exit code, in one place.
//
//   StatusOr<Snapshot> snap = LoadSnapshot("app.heapsnap");
//   if (!snap.ok()) { std::cerr << snap.status().message(); return 2; }
#ifndef HEAPSNAP_BASE_STATUS_H_
#define HEAPSNAP_BASE_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace heapsnap {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the user asked for something that cannot be done (bad flag, bad id)
  kNotFound,         // a file or an object that does not exist
  kDataLoss,         // a file that is corrupt, truncated or not a snapshot
  kIoError,          // the operating system refused a read or a write
  kInternal,         // a bug in heapsnap
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT
  StatusOr(T value) : value_(std::move(value)) {}                                  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

#define HEAPSNAP_RETURN_IF_ERROR(expr)   \
  do {                                   \
    ::heapsnap::Status _status = (expr); \
    if (!_status.ok()) return _status;   \
  } while (0)

// HEAPSNAP_ASSIGN_OR_RETURN(auto snap, LoadSnapshot(path)); declares (or assigns) lhs from a
// StatusOr's value, or returns its status from the enclosing function.
#define HEAPSNAP_STATUS_CONCAT_INNER_(a, b) a##b
#define HEAPSNAP_STATUS_CONCAT_(a, b) HEAPSNAP_STATUS_CONCAT_INNER_(a, b)
#define HEAPSNAP_ASSIGN_OR_RETURN(lhs, expr) \
  HEAPSNAP_ASSIGN_OR_RETURN_IMPL_(HEAPSNAP_STATUS_CONCAT_(_status_or_, __LINE__), lhs, expr)
// tmp and lhs name variables (lhs may declare one), so they cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define HEAPSNAP_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

}  // namespace heapsnap

#endif  // HEAPSNAP_BASE_STATUS_H_
