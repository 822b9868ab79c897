// Boxed<T>: an optional value kept on the heap, with the part of std::optional's interface the
// code uses. For a struct with several optional parts of which at most one is ever set (a knowledge
// node's nine payloads): std::optional keeps room for each inline, so a node took 1,360 bytes and a
// process decoding 920 of them touched (and faulted in) a megabyte of mostly empty memory.
//
//   Boxed<Lab> lab;            // empty
//   lab = Lab{...};            // set; copies are deep, moves take the box
//   if (lab) Use(lab->loinc);
#pragma once

#include <memory>
#include <optional>
#include <utility>

namespace nflux {

template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}                                         // NOLINT(google-explicit-constructor)
  Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT(google-explicit-constructor)
  Boxed(const Boxed& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(std::nullopt_t) {
    value_.reset();
    return *this;
  }
  ~Boxed() = default;

  template <typename... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  void reset() { value_.reset(); }

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return value_ != nullptr; }
  // REQUIRES: has_value() (as for std::optional).
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }
  // Throws std::bad_optional_access when empty.
  const T& value() const {
    if (!value_) throw std::bad_optional_access();
    return *value_;
  }

 private:
  std::unique_ptr<T> value_;
};

}  // namespace nflux
