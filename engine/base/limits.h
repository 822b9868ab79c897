// The limits every input is held to: chosen generously for real use (README "Limits" lists them
// with the reason for each), enforced where the input is read, so no input can crash, hang or
// exhaust NeuroFlux. A value over a limit is bad input with a message naming it (exit 2, HTTP 413
// or 400), never an internal error.
#pragma once

#include <cstddef>

namespace nflux::limits {

// ---- Bytes read ----------------------------------------------------------------------------------
// A case file, a FHIR resource or bundle, a flux file, stdin: a patient's bundle with years of
// results is a few MB.
inline constexpr size_t kMaxInputBytes = 32u << 20;
// One knowledge or rule file (the shipped ones are under 200 kB each).
inline constexpr size_t kMaxSourceFileBytes = 16u << 20;
// Files in the knowledge or rules folder, and rules in the rule base (the benchmarks load 10,000).
inline constexpr size_t kMaxSourceFiles = 10'000;
inline constexpr size_t kMaxRules = 100'000;
// Conditions in a rule nest at most this deep (parentheses, `not`, `at least`): a limit on recursion.
inline constexpr int kMaxConditionDepth = 64;
// Conditions in one rule: tests, `not`, `at least` and parenthesised groups (the shipped rules have
// at most about 30). A rule file of one million-line `or` chain would otherwise hold a million
// conditions of about 320 bytes each.
inline constexpr size_t kMaxRuleConditions = 10'000;
// The compiled snapshot of knowledge and rules (about 1 MB shipped; 10,000 rules stay far below).
inline constexpr size_t kMaxSnapshotBytes = 256u << 20;

// ---- JSON shape ----------------------------------------------------------------------------------
// Arrays and objects inside each other: a case needs 5, a FHIR bundle with contained resources
// about 12.
inline constexpr int kMaxJsonDepth = 64;
// One string value or key: free-text notes and names, not documents.
inline constexpr size_t kMaxJsonString = 64u << 10;

// ---- Case lists ----------------------------------------------------------------------------------
inline constexpr size_t kMaxLabs = 2'000;
inline constexpr size_t kMaxListItems = 500;  // symptoms, medications, conditions, supplements, stressors...

// ---- Words ---------------------------------------------------------------------------------------
// Nearest-id suggestions compare an unknown word with every id (edit distance): words longer than
// this get no suggestion, which keeps the search within a bounded budget.
inline constexpr size_t kMaxSuggestedWord = 64;
// A unit's text and how deep its parentheses nest ("ug/(24.h)" is 1).
inline constexpr size_t kMaxUnitLength = 64;
inline constexpr int kMaxUnitNesting = 8;
// A `whatif --set` or `--apply` argument.
inline constexpr size_t kMaxChangeLength = 256;

}  // namespace nflux::limits
