// Units of measure for lab values: parsing UCUM-style unit text and converting values between
// units, including the analyte-specific steps (molar mass, explicit factors) that dimensional
// analysis alone cannot do.
//
// Unit text follows UCUM ("mg/dL", "u[IU]/mL", "mg/(24.h)", "mL/min/{1.73_m2}"). The spellings lab
// reports actually use ("mcg/dl", "mIU/mL", "mEq/L", "mg/24h", "mL/min/1.73m2") are first rewritten
// to UCUM by NormaliseUnitText; ParseUnit always normalises, so callers may pass either.
//
// A Unit is a value: its normalised text, a scale to the coherent base units (g, mol, L, s, m,
// [IU], U, eq) and the exponent of each base quantity. Converting a value between two units of the
// same dimension is pure scaling. Mass <-> amount needs the analyte's molar mass. Anything else
// (IU <-> pmol for insulin, mEq for magnesium, mmol/mol <-> % for HbA1c) needs an explicit,
// analyte-specific conversion listed in the knowledge base.
//
// Thread-safety: every function is pure and every type is an immutable or caller-owned value; call
// from any thread. The only tables are static const.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/status.h"
#include "base/text.h"

namespace nflux::units {

// The base quantities a lab unit is built from. [IU] is its own quantity because an international
// unit is defined per analyte and never converts by dimension alone.
enum class BaseQuantity {
  kMass,               // g
  kAmount,             // mol
  kVolume,             // L (kept apart from length: lab volumes are never written as m3)
  kTime,               // s
  kLength,             // m
  kInternationalUnit,  // [IU]
  kEnzymeUnit,         // U (umol/min of substrate, but labs report it as its own quantity)
  kEquivalent,         // eq
};
inline constexpr size_t kBaseQuantityCount = 8;

// Exponent of each base quantity, indexed by BaseQuantity; all zero for a dimensionless unit.
using Dimension = std::array<int, kBaseQuantityCount>;

// A parsed unit. Obtain one from ParseUnit.
// A value v in this unit equals v * mantissa() * 10^decimal_exponent() in base units. The power of
// ten is kept apart from the mantissa so that metric prefixes cancel exactly (1 ug/dL is exactly
// 10 ng/mL, not 10.000000000000002).
class Unit {
 public:
  // The normalised UCUM text, e.g. "ug/dL" for "mcg/dl".
  const std::string& text() const { return text_; }
  double mantissa() const { return mantissa_; }
  int decimal_exponent() const { return decimal_exponent_; }
  const Dimension& dimension() const { return dimension_; }
  int exponent(BaseQuantity quantity) const { return dimension_[static_cast<size_t>(quantity)]; }
  bool IsDimensionless() const;

 private:
  friend class UnitParser;  // The only producer; defined in unit_parser.cc.
  Unit() = default;

  std::string text_;
  double mantissa_ = 1;
  int decimal_exponent_ = 0;
  Dimension dimension_{};
};

// An analyte-specific conversion: canonical = value * factor + offset, where value is in `unit`.
// REQUIRES (checked by Convert): factor is finite and non-zero; `unit` parses. The factor defaults
// to 0 so that an entry built without one fails loudly instead of converting 1:1.
struct ExplicitConversion {
  std::string unit;
  double factor = 0;
  double offset = 0;
};

// What Convert needs to know about the thing measured; built by the knowledge loader from a lab.
struct Analyte {
  std::string id;                    // e.g. "vitamin_b12"; named in error messages.
  std::string canonical_unit;        // the unit values are stored in, e.g. "pg/mL".
  std::optional<double> molar_mass;  // g/mol; needed for mass <-> amount.
  std::vector<ExplicitConversion> conversions;
};

// Rewrites common lab spellings to UCUM: trims and drops spaces, µ/μ -> u, mcg -> ug, IU -> [IU]
// (keeping a prefix: mIU -> m[IU]), mEq -> meq, dl/ml/l -> dL/mL/L, hr/day -> h/d, a per-day
// denominator (/24h, /24 h, /day, /d) -> /(24.h), and /1.73m2 -> /{1.73_m2}. Text it does not
// recognise is left as it is, for ParseUnit to report. Never fails.
std::string NormaliseUnitText(std::string_view text);

// Parses unit text (normalising it first). Errors are InvalidArgument and name the text and the
// offending piece, e.g. "unknown unit 'mg/dq': 'dq' is not a unit", "unit 'mg/(24.h' is missing ')'".
Result<Unit> ParseUnit(std::string_view text);

// True when the two units measure the same kind of quantity (equal exponents everywhere).
bool SameDimension(const Unit& a, const Unit& b);

// A readable name for a unit's dimension: "mass/volume", "amount/time", "IU/volume",
// "mass/volume/time", "length^2", "dimensionless".
std::string DescribeDimension(const Unit& unit);

// Converts `value` from one unit to another.
//  - Same dimension: scaled.
//  - Mass <-> amount (alone, per volume, per time, ...): through analyte->molar_mass.
//  - A unit that is one of the analyte's explicit conversions goes through the canonical unit:
//    from it, value -> canonical by the affine step; to it, the inverse. A unit matches an explicit
//    conversion when its normalised text is the same, or when it has the same dimension as the
//    conversion's unit and a different dimension from the canonical unit (so mIU/L matches an
//    entry for u[IU]/mL, but mmol/mol matches an HbA1c entry only by name: it is dimensionless,
//    like the canonical %).
// `analyte` may be null; then only dimensional conversions are possible. Without an analyte,
// "%" -> "mmol/mol" is plain scaling (x10); pass the analyte for HbA1c.
// Errors (InvalidArgument): either text fails ParseUnit; a value that is not finite (NaN, inf);
// incompatible dimensions; mass <-> amount without a usable molar mass; a malformed explicit
// conversion on the analyte.
Result<double> Convert(double value, std::string_view from, std::string_view to,
                       const Analyte* analyte = nullptr);

// Convert with the two unit texts and the analyte's units parsed once, for converting many values
// between the same units (the rule checker converts every threshold one lab is written with).
// Convert(value) returns exactly what units::Convert(value, from, to, analyte) returns, errors
// included. Cheap to copy. REQUIRES: *analyte, when given, outlives the converter.
class Converter {
 public:
  Converter(std::string_view from, std::string_view to, const Analyte* analyte = nullptr);
  Result<double> Convert(double value) const;

 private:
  struct Parsed;
  std::shared_ptr<const Parsed> parsed_;
};

// Ok when Convert(from -> to) would succeed for some value; the knowledge validator uses it to
// check that every accepted unit of a lab converts to its canonical unit.
Status CheckConvertible(std::string_view from, std::string_view to, const Analyte* analyte);

// Converters from any unit text to one analyte's canonical unit, each parsed once per distinct text
// and kept: a case repeats a handful of unit spellings, and parsing one costs far more than
// converting a value. Holds its own copy of the analyte, so it outlives whatever it was made from.
// Thread-safe, and a look-up writes nothing shared (every lab of every case in a batch looks its
// unit up, from every thread): kept converters are published once and never change or move, so
// readers take no lock; a new text takes a mutex once. Keeps at most kMaxTexts texts per direction
// (beyond them a converter is built and not kept), so hostile input cannot grow it, and unit texts
// chosen to collide can at worst make a look-up walk the kMaxTexts kept ones.
class CanonicalConverters {
 public:
  explicit CanonicalConverters(Analyte analyte);
  ~CanonicalConverters();
  CanonicalConverters(const CanonicalConverters&) = delete;
  CanonicalConverters& operator=(const CanonicalConverters&) = delete;

  // `value` in `from` converted to the canonical unit: Converter(from, canonical_unit, &analyte).
  Result<double> FromUnit(std::string_view from, double value) const;
  // `value` in the canonical unit converted back to `to` (a derived index's formula wants its
  // unit): Converter(canonical_unit, to, &analyte), kept likewise.
  Result<double> ToUnit(std::string_view to, double value) const;

  static constexpr size_t kMaxTexts = 256;

 private:
  struct Entry {
    std::string text;
    Converter converter;
  };
  // Open addressing, at most half full; allocated with the first text kept.
  static constexpr size_t kSlots = 2 * kMaxTexts;
  using Slots = std::array<std::atomic<const Entry*>, kSlots>;
  struct Table {
    std::atomic<Slots*> slots{nullptr};
    size_t size = 0;  // under mutex_
  };

  static const Converter* Find(const Table& table, std::string_view text);
  Result<double> ConvertKept(Table& table, std::string_view text, std::string_view from, std::string_view to,
                             double value) const;

  Analyte analyte_;
  mutable std::mutex mutex_;  // taken to add a text
  mutable Table from_text_, to_text_;  // by the other unit's text
};

}  // namespace nflux::units
