// Fixed-size loads of 4 and 8 bytes from anywhere in a text (unaligned). A memcpy of a constant
// size compiles to one plain move; a variable-length memcpy or memcmp is a call into libc. The
// short-text paths of the id hash (base/id_hash.h) and of the JSON writer (base/json_writer.h)
// read their words through these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nflux {

inline uint64_t Load8(const char* at) {
  uint64_t word = 0;
  std::memcpy(&word, at, sizeof word);
  return word;
}

inline uint32_t Load4(const char* at) {
  uint32_t word = 0;
  std::memcpy(&word, at, sizeof word);
  return word;
}

// The `size` (4 to 8) bytes at `at` as one word, from two overlapping 4-byte loads: every byte is
// in it, and two texts of the same size give the same word only when they are equal.
inline uint64_t LoadOverlapping4(const char* at, size_t size) {
  return Load4(at) | uint64_t{Load4(at + size - 4)} << 32;
}

}  // namespace nflux
