// Hashing and comparing short ids (knowledge node ids, rule symbols) without library calls: the
// look-up tables of the knowledge base and of the compiled rules are probed for every datum of
// every case, and nearly every id is under 24 bytes. Words are read with fixed-size loads, which
// compile to plain moves; a variable-length memcpy or memcmp is a call into libc. The hash mixes
// well enough for our own ids in tables probed linearly; it is not meant for keys an adversary picks.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace nflux {

namespace id_hash_internal {

inline uint64_t Load8(const char* at) {
  uint64_t word = 0;
  std::memcpy(&word, at, sizeof word);
  return word;
}

inline uint64_t Load4(const char* at) {
  uint32_t word = 0;
  std::memcpy(&word, at, sizeof word);
  return word;
}

}  // namespace id_hash_internal

// The `size` (< 8) bytes at `at` as one word. The loads overlap but cover every byte, so two
// texts of the same size give the same word only when they are equal.
inline uint64_t ShortWord(const char* at, size_t size) {
  using id_hash_internal::Load4;
  if (size >= 4) return Load4(at) | Load4(at + size - 4) << 32;
  if (size == 0) return 0;
  return static_cast<uint64_t>(static_cast<unsigned char>(at[0])) |
         static_cast<uint64_t>(static_cast<unsigned char>(at[size / 2])) << 8 |
         static_cast<uint64_t>(static_cast<unsigned char>(at[size - 1])) << 16;
}

// Whether the `size` bytes at `a` and `b` are equal: up to 24 bytes by three overlapping word
// compares, longer ones by memcmp.
inline bool SameBytes(const char* a, const char* b, size_t size) {
  using id_hash_internal::Load8;
  if (size < 8) return ShortWord(a, size) == ShortWord(b, size);
  if (size > 24) return std::memcmp(a, b, size) == 0;
  return Load8(a) == Load8(b) && Load8(a + size - 8) == Load8(b + size - 8) &&
         (size <= 16 || Load8(a + 8) == Load8(b + 8));
}

inline bool SameId(std::string_view a, std::string_view b) {
  return a.size() == b.size() && SameBytes(a.data(), b.data(), a.size());
}

// A 64-bit hash of `id`; `seed` separates id spaces (the compiled rules' families).
inline uint64_t HashId(std::string_view id, uint64_t seed = 0) {
  constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ull;
  // The size is mixed in on its own first: xored straight into a word it could cancel a
  // difference in the text ("aaaaaa" and "baaaa" would collide).
  uint64_t hash = (((seed + 1) * kMultiplier) ^ id.size()) * kMultiplier;
  hash ^= hash >> 29;
  const char* at = id.data();
  size_t left = id.size();
  for (; left >= 8; at += 8, left -= 8) {
    hash = (hash ^ id_hash_internal::Load8(at)) * kMultiplier;
    hash ^= hash >> 29;
  }
  hash = (hash ^ ShortWord(at, left)) * kMultiplier;
  hash ^= hash >> 32;
  return (hash * kMultiplier) ^ (hash >> 29);
}

}  // namespace nflux
