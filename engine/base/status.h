// Status and Result<T>: errors as values with context.
//
// Every fallible function in the engine returns a Status or a Result<T>; exceptions never cross a
// module boundary. A Status carries a code (what kind of failure, which maps to the CLI's exit
// code) and a message that already names where the problem is (file, line, JSON path).
// Values are cheap to copy and thread-compatible (no shared state).
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace nflux {

class [[nodiscard]] Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kCorruption, kIOError, kInternal, kUnauthenticated };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IOError(std::string msg) { return Status(Code::kIOError, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }
  // Credentials missing or not accepted (a bearer token); the HTTP service answers 401.
  static Status Unauthenticated(std::string msg) { return Status(Code::kUnauthenticated, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is prefixed with `context: `, e.g. a file name.
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// The nflux command's exit code for a status (shared/contracts/cli.md; the one mapping every
// command uses): 0 ok; 1 an internal error, which is a bug; 2 everything the user can act on: bad
// input and usage, and what cannot be read or written (a folder where a file belongs, a locked or
// damaged database). Exit code 3 (a check found problems) is the command's own verdict.
inline int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Status::Code::kOk: return 0;
    case Status::Code::kInternal: return 1;
    case Status::Code::kInvalidArgument:
    case Status::Code::kNotFound:
    case Status::Code::kUnauthenticated:
    case Status::Code::kCorruption:
    case Status::Code::kIOError: return 2;
  }
  return 1;
}

// Result<T> holds either a value or a non-ok Status.
// REQUIRES: value() only when ok(); status() is Ok when a value is held.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design.
  Result(Status status) : data_(std::move(status)) { assert(!std::get<Status>(data_).ok()); }  // NOLINT

  bool ok() const { return std::holds_alternative<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace nflux
