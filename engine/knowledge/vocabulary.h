// The domain's words as types, declared once: alert severity, contraindication severity, sex,
// conclusion kind, strategy kind and lifestyle value type. Each has one Name() (the spelling used in knowledge files, rule files, case
// JSON and output JSON) and one Parse<E>() (nullopt for an unknown word). Comparing a string
// against one of these names anywhere else is a bug waiting to happen: parse once at the edge,
// then compare enums.
//
// Header-only, constexpr tables; thread-safe (no state).
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <utility>

namespace nflux {

// How urgent an alert is, most severe first; the enum order is the display order.
enum class AlertSeverity { kUrgent, kHigh, kCaution, kInfo };

// How strongly a contraindicated_with edge stops a strategy: absolute and relative block it,
// caution lets it through with the caution attached.
enum class ContraindicationSeverity { kAbsolute, kRelative, kCaution };

enum class Sex { kFemale, kMale };

// What a rule action concludes (and what a trace contribution records): a derived fact, a driver,
// a deficit, evidence against a deficit, a suggested strategy, an alert, or a data-quality note.
enum class ConclusionKind { kFact, kDriver, kDeficit, kAgainst, kStrategy, kAlert, kNote };

// What kind of help a strategy node is (knowledge files' "strategy_kind").
enum class StrategyKind { kPrecursor, kCofactor, kBotanical, kLifestyle, kReferral, kOther };

// How a lifestyle factor's value is given in a case (knowledge files' "value_type").
enum class LifestyleValueType { kNumber, kBoolean, kEnum, kScale };

template <typename E>
struct EnumNames;  // specialised below: `static constexpr std::array<std::pair<E, std::string_view>, N> kNames`

template <>
struct EnumNames<AlertSeverity> {
  static constexpr std::array<std::pair<AlertSeverity, std::string_view>, 4> kNames = {{
      {AlertSeverity::kUrgent, "urgent"},
      {AlertSeverity::kHigh, "high"},
      {AlertSeverity::kCaution, "caution"},
      {AlertSeverity::kInfo, "info"},
  }};
};

template <>
struct EnumNames<ContraindicationSeverity> {
  static constexpr std::array<std::pair<ContraindicationSeverity, std::string_view>, 3> kNames = {{
      {ContraindicationSeverity::kAbsolute, "absolute"},
      {ContraindicationSeverity::kRelative, "relative"},
      {ContraindicationSeverity::kCaution, "caution"},
  }};
};

template <>
struct EnumNames<Sex> {
  static constexpr std::array<std::pair<Sex, std::string_view>, 2> kNames = {{
      {Sex::kFemale, "female"},
      {Sex::kMale, "male"},
  }};
};

template <>
struct EnumNames<ConclusionKind> {
  static constexpr std::array<std::pair<ConclusionKind, std::string_view>, 7> kNames = {{
      {ConclusionKind::kFact, "fact"},
      {ConclusionKind::kDriver, "driver"},
      {ConclusionKind::kDeficit, "deficit"},
      {ConclusionKind::kAgainst, "against"},
      {ConclusionKind::kStrategy, "strategy"},
      {ConclusionKind::kAlert, "alert"},
      {ConclusionKind::kNote, "note"},
  }};
};

template <>
struct EnumNames<StrategyKind> {
  static constexpr std::array<std::pair<StrategyKind, std::string_view>, 6> kNames = {{
      {StrategyKind::kPrecursor, "precursor"},
      {StrategyKind::kCofactor, "cofactor"},
      {StrategyKind::kBotanical, "botanical"},
      {StrategyKind::kLifestyle, "lifestyle"},
      {StrategyKind::kReferral, "referral"},
      {StrategyKind::kOther, "other"},
  }};
};

template <>
struct EnumNames<LifestyleValueType> {
  static constexpr std::array<std::pair<LifestyleValueType, std::string_view>, 4> kNames = {{
      {LifestyleValueType::kNumber, "number"},
      {LifestyleValueType::kBoolean, "boolean"},
      {LifestyleValueType::kEnum, "enum"},
      {LifestyleValueType::kScale, "scale"},
  }};
};

// The word for a value ("urgent", "absolute", "female", "deficit").
template <typename E>
constexpr std::string_view Name(E value) {
  for (auto [e, name] : EnumNames<E>::kNames)
    if (e == value) return name;
  return "?";
}

// The value a word names, or nullopt. Exact, case-sensitive: the files spell them in lower case.
template <typename E>
constexpr std::optional<E> Parse(std::string_view name) {
  for (auto [e, n] : EnumNames<E>::kNames)
    if (n == name) return e;
  return std::nullopt;
}

// Every value, in declaration order (for messages listing what is allowed).
template <typename E>
constexpr auto AllValues() {
  std::array<E, EnumNames<E>::kNames.size()> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = EnumNames<E>::kNames[i].first;
  return out;
}

// Alert severity order: 0 = urgent (most severe). Red flags are urgent or high.
constexpr int Rank(AlertSeverity severity) { return static_cast<int>(severity); }
constexpr bool IsRedFlag(AlertSeverity severity) { return Rank(severity) <= Rank(AlertSeverity::kHigh); }

// A contraindication of this severity stops the strategy.
constexpr bool Blocks(ContraindicationSeverity severity) { return severity != ContraindicationSeverity::kCaution; }

// Conclusions that carry a combined certainty (evidence for and against).
constexpr bool HasCertainty(ConclusionKind kind) {
  return kind == ConclusionKind::kFact || kind == ConclusionKind::kDriver || kind == ConclusionKind::kDeficit;
}

}  // namespace nflux
