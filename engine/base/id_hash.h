// Hashing and comparing short ids (knowledge node ids, rule symbols) without library calls: the
// look-up tables of the knowledge base and of the compiled rules are probed for every datum of
// every case, and nearly every id is under 24 bytes. Words are read with fixed-size loads, which
// compile to plain moves; a variable-length memcpy or memcmp is a call into libc. The hash mixes
// well enough for our own ids in tables probed linearly; it is not meant for keys an adversary picks.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "base/words.h"

namespace nflux {

// The `size` (< 8) bytes at `at` as one word. The loads overlap but cover every byte, so two
// texts of the same size give the same word only when they are equal.
inline uint64_t ShortWord(const char* at, size_t size) {
  if (size >= 4) return LoadOverlapping4(at, size);
  if (size == 0) return 0;
  return static_cast<uint64_t>(static_cast<unsigned char>(at[0])) |
         static_cast<uint64_t>(static_cast<unsigned char>(at[size / 2])) << 8 |
         static_cast<uint64_t>(static_cast<unsigned char>(at[size - 1])) << 16;
}

// Whether the `size` bytes at `a` and `b` are equal: up to 24 bytes by three overlapping word
// compares, longer ones by memcmp.
inline bool SameBytes(const char* a, const char* b, size_t size) {
  if (size < 8) return ShortWord(a, size) == ShortWord(b, size);
  if (size > 24) return std::memcmp(a, b, size) == 0;
  return Load8(a) == Load8(b) && Load8(a + size - 8) == Load8(b + size - 8) &&
         (size <= 16 || Load8(a + 8) == Load8(b + 8));
}

inline bool SameId(std::string_view a, std::string_view b) {
  return a.size() == b.size() && SameBytes(a.data(), b.data(), a.size());
}

// A 64-bit hash of `id`; `seed` separates id spaces (the compiled rules' families). Up to 16 bytes
// (nearly every id) are two overlapping words multiplied side by side rather than one after the
// other: a look-up waits on this hash before it can touch its table.
inline uint64_t HashId(std::string_view id, uint64_t seed = 0) {
  constexpr uint64_t kFirst = 0x9E3779B97F4A7C15ull, kSecond = 0xC2B2AE3D27D4EB4Full, kSize = 0x165667B19E3779F9ull;
  auto mix = [](uint64_t hash) {
    hash ^= hash >> 32;
    hash *= 0x9E3779B97F4A7C15ull;
    return hash ^ (hash >> 29);
  };
  const char* at = id.data();
  size_t left = id.size();
  // The size (and seed) has a term of its own: xored straight into a word of the text it could
  // cancel a difference in it ("aaaaaa" and "baaaa" would collide).
  uint64_t hash = (static_cast<uint64_t>(left) + (seed << 32)) * kSize;
  for (; left > 16; at += 16, left -= 16)
    hash = mix(hash ^ Load8(at) * kFirst ^ std::rotl(Load8(at + 8) * kSecond, 29));
  const uint64_t first = left >= 8 ? Load8(at) : ShortWord(at, left);
  const uint64_t last = left >= 8 ? Load8(at + left - 8) : 0;  // overlaps `first` below 16 bytes
  return mix(hash ^ first * kFirst ^ std::rotl(last * kSecond, 29));
}

}  // namespace nflux
