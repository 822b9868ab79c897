// Conversions between units: by dimension, through a molar mass, or through an analyte's explicit
// conversions to its canonical unit.

#include "units/units.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/id_hash.h"
#include "base/text.h"

namespace nflux::units {
namespace {

constexpr std::string_view kQuantityNames[kBaseQuantityCount] = {
    "mass", "amount", "volume", "time", "length", "IU", "enzyme activity", "equivalents",
};

// Powers of ten up to 1e22 are exact doubles, so multiplying or dividing by one rounds once.
double ScaleByPowerOfTen(double value, int exponent) {
  static constexpr double kExactPowers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                            1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  constexpr int kLargestExact = 22;
  if (exponent >= 0 && exponent <= kLargestExact) return value * kExactPowers[exponent];
  if (exponent < 0 && exponent >= -kLargestExact) return value / kExactPowers[-exponent];
  return value * std::pow(10.0, exponent);
}

// True when `from` and `to` differ only by trading grams for moles, e.g. mg/dL vs mmol/L.
bool DiffersByMassForAmount(const Unit& from, const Unit& to) {
  for (size_t i = 0; i < kBaseQuantityCount; ++i) {
    auto quantity = static_cast<BaseQuantity>(i);
    if (quantity == BaseQuantity::kMass || quantity == BaseQuantity::kAmount) continue;
    if (from.dimension()[i] != to.dimension()[i]) return false;
  }
  const int from_substance = from.exponent(BaseQuantity::kMass) + from.exponent(BaseQuantity::kAmount);
  const int to_substance = to.exponent(BaseQuantity::kMass) + to.exponent(BaseQuantity::kAmount);
  return from_substance == to_substance && from.exponent(BaseQuantity::kMass) != to.exponent(BaseQuantity::kMass);
}

std::string WithDimension(const Unit& unit) { return unit.text() + " (" + DescribeDimension(unit) + ")"; }

Result<double> UsableMolarMass(const Unit& from, const Unit& to, const Analyte* analyte) {
  const std::string prefix = "cannot convert " + from.text() + " to " + to.text() + " without a molar mass; ";
  if (analyte == nullptr) return Status::InvalidArgument(prefix + "name the test (e.g. --test vitamin_b12)");
  if (!analyte->molar_mass) return Status::InvalidArgument(prefix + "analyte '" + analyte->id + "' has no molar_mass");
  const double molar_mass = *analyte->molar_mass;
  if (!std::isfinite(molar_mass) || molar_mass <= 0) {
    return Status::InvalidArgument(prefix + "analyte '" + analyte->id + "' has molar_mass " + FormatNumber(molar_mass) +
                                   ", which is not positive");
  }
  return molar_mass;
}

// Scaling, plus the molar mass when grams trade for moles. The mantissas and the molar mass go in
// one division so that a conversion rounds as few times as possible.
Result<double> ConvertByDimension(double value, const Unit& from, const Unit& to, const Analyte* analyte) {
  double numerator = value * from.mantissa();
  double denominator = to.mantissa();
  if (!SameDimension(from, to)) {
    if (!DiffersByMassForAmount(from, to)) {
      return Status::InvalidArgument("cannot convert " + WithDimension(from) + " to " + WithDimension(to) +
                                     ": incompatible dimensions");
    }
    Result<double> molar_mass = UsableMolarMass(from, to, analyte);
    if (!molar_mass.ok()) return molar_mass.status();
    // Amount in base units = mass / molar mass, once per gram traded for a mole.
    const int grams_gained = to.exponent(BaseQuantity::kMass) - from.exponent(BaseQuantity::kMass);
    const double factor = std::pow(*molar_mass, std::abs(grams_gained));
    if (grams_gained > 0) numerator *= factor;
    else denominator *= factor;
  }
  return ScaleByPowerOfTen(numerator / denominator, from.decimal_exponent() - to.decimal_exponent());
}

struct ParsedConversion {
  const ExplicitConversion* conversion;
  Unit unit;
};

struct AnalyteUnits {
  Unit canonical;
  std::vector<ParsedConversion> conversions;
};

Result<AnalyteUnits> ParseAnalyteUnits(const Analyte& analyte) {
  const std::string context = "analyte '" + analyte.id + "'";
  Result<Unit> canonical = ParseUnit(analyte.canonical_unit);
  if (!canonical.ok()) return canonical.status().WithContext(context + " canonical_unit");
  AnalyteUnits units{*canonical, {}};
  for (const ExplicitConversion& conversion : analyte.conversions) {
    Result<Unit> unit = ParseUnit(conversion.unit);
    if (!unit.ok()) return unit.status().WithContext(context + " conversion");
    if (!std::isfinite(conversion.factor) || conversion.factor == 0 || !std::isfinite(conversion.offset)) {
      return Status::InvalidArgument(context + " conversion from " + unit->text() + " has factor " +
                                     FormatNumber(conversion.factor) + " and offset " +
                                     FormatNumber(conversion.offset) +
                                     "; the factor must be non-zero and both finite");
    }
    units.conversions.push_back({&conversion, *unit});
  }
  return units;
}

// The explicit conversion that applies to `unit`, or null; see Convert in units.h for the rule.
const ParsedConversion* FindExplicit(const AnalyteUnits& units, const Unit& unit) {
  for (const ParsedConversion& parsed : units.conversions) {
    if (parsed.unit.text() == unit.text()) return &parsed;
  }
  // A unit of the canonical dimension converts by dimension; matching it to an entry by dimension
  // would send mmol/mol through an HbA1c entry written for a different unit.
  if (SameDimension(unit, units.canonical)) return nullptr;
  for (const ParsedConversion& parsed : units.conversions) {
    if (SameDimension(parsed.unit, unit)) return &parsed;
  }
  return nullptr;
}

Result<double> ConvertThroughCanonical(double value, const Unit& from, const Unit& to, const Analyte& analyte,
                                       const AnalyteUnits& units, const ParsedConversion* from_explicit,
                                       const ParsedConversion* to_explicit) {
  const std::string context = "cannot convert " + from.text() + " to " + to.text() + " for analyte '" +
                              analyte.id + "' through its canonical unit " + units.canonical.text();
  double canonical = 0;
  if (from_explicit != nullptr) {
    Result<double> in_entry_unit = ConvertByDimension(value, from, from_explicit->unit, &analyte);
    if (!in_entry_unit.ok()) return in_entry_unit.status().WithContext(context);
    canonical = *in_entry_unit * from_explicit->conversion->factor + from_explicit->conversion->offset;
  } else {
    Result<double> converted = ConvertByDimension(value, from, units.canonical, &analyte);
    if (!converted.ok()) return converted.status().WithContext(context);
    canonical = *converted;
  }
  if (to_explicit == nullptr) {
    Result<double> converted = ConvertByDimension(canonical, units.canonical, to, &analyte);
    if (!converted.ok()) return converted.status().WithContext(context);
    return converted;
  }
  const double in_entry_unit = (canonical - to_explicit->conversion->offset) / to_explicit->conversion->factor;
  Result<double> converted = ConvertByDimension(in_entry_unit, to_explicit->unit, to, &analyte);
  if (!converted.ok()) return converted.status().WithContext(context);
  return converted;
}

}  // namespace

bool Unit::IsDimensionless() const {
  return std::all_of(dimension_.begin(), dimension_.end(), [](int power) { return power == 0; });
}

bool SameDimension(const Unit& a, const Unit& b) { return a.dimension() == b.dimension(); }

std::string DescribeDimension(const Unit& unit) {
  if (unit.IsDimensionless()) return "dimensionless";
  std::string numerator;
  std::string denominator;
  for (size_t i = 0; i < kBaseQuantityCount; ++i) {
    const int power = unit.dimension()[i];
    if (power == 0) continue;
    std::string term(kQuantityNames[i]);
    // Appended piece by piece: GCC 12 at -O2 warns falsely (-Wrestrict) on "literal" + temporary.
    if (std::abs(power) != 1) {
      term += '^';
      term += std::to_string(std::abs(power));
    }
    std::string& side = power > 0 ? numerator : denominator;
    if (power < 0 || !numerator.empty()) side += power > 0 ? '.' : '/';
    side += term;
  }
  return (numerator.empty() ? "1" : numerator) + denominator;
}

struct Converter::Parsed {
  Result<Unit> from;
  Result<Unit> to;
  const Analyte* analyte;
  std::optional<Result<AnalyteUnits>> analyte_units;  // with an analyte, once both units parse
};

Converter::Converter(std::string_view from, std::string_view to, const Analyte* analyte) {
  auto parsed = std::make_shared<Parsed>(Parsed{ParseUnit(from), ParseUnit(to), analyte, std::nullopt});
  if (parsed->from.ok() && parsed->to.ok() && analyte != nullptr) parsed->analyte_units = ParseAnalyteUnits(*analyte);
  parsed_ = std::move(parsed);
}

// The checks run in the order callers see them: the units, the value, then the analyte's units.
Result<double> Converter::Convert(double value) const {
  const Parsed& parsed = *parsed_;
  if (!parsed.from.ok()) return parsed.from.status();
  if (!parsed.to.ok()) return parsed.to.status();
  const Unit& from = *parsed.from;
  const Unit& to = *parsed.to;
  if (!std::isfinite(value)) {
    return Status::InvalidArgument("cannot convert " + FormatNumber(value) + " " + from.text() +
                                   ": not a finite number");
  }
  Result<double> converted = [&]() -> Result<double> {
    if (parsed.analyte == nullptr) return ConvertByDimension(value, from, to, nullptr);
    const Result<AnalyteUnits>& units = *parsed.analyte_units;
    if (!units.ok()) return units.status();
    const ParsedConversion* from_explicit = FindExplicit(*units, from);
    const ParsedConversion* to_explicit = FindExplicit(*units, to);
    // Neither side explicit, or both the same entry (u[IU]/mL -> m[IU]/L): plain scaling suffices.
    if (from_explicit == to_explicit) return ConvertByDimension(value, from, to, parsed.analyte);
    return ConvertThroughCanonical(value, from, to, *parsed.analyte, *units, from_explicit, to_explicit);
  }();
  // 1e300 kg in ug: past a double. Never a number that is not one.
  if (converted.ok() && !std::isfinite(*converted))
    return Status::InvalidArgument("cannot convert " + FormatNumber(value) + " " + from.text() + " to " + to.text() +
                                   ": the result is out of range");
  return converted;
}

Result<double> Convert(double value, std::string_view from, std::string_view to, const Analyte* analyte) {
  return Converter(from, to, analyte).Convert(value);
}

Status CheckConvertible(std::string_view from, std::string_view to, const Analyte* analyte) {
  // Every step is linear or affine, so one finite value converts exactly when all do.
  return Convert(1, from, to, analyte).status();
}

CanonicalConverters::CanonicalConverters(Analyte analyte) : analyte_(std::move(analyte)) {}

CanonicalConverters::~CanonicalConverters() {
  for (Table* table : {&from_text_, &to_text_}) {
    Slots* slots = table->slots.load(std::memory_order_relaxed);
    if (slots == nullptr) continue;
    for (auto& slot : *slots) delete slot.load(std::memory_order_relaxed);
    delete slots;
  }
}

Result<double> CanonicalConverters::FromUnit(std::string_view from, double value) const {
  return ConvertKept(from_text_, from, from, analyte_.canonical_unit, value);
}

Result<double> CanonicalConverters::ToUnit(std::string_view to, double value) const {
  return ConvertKept(to_text_, to, analyte_.canonical_unit, to, value);
}

// Lock-free: a slot, once filled, holds its entry for good (acquire pairs with the release that
// published it, so the entry is seen whole).
const Converter* CanonicalConverters::Find(const Table& table, std::string_view text) {
  const Slots* slots = table.slots.load(std::memory_order_acquire);
  if (slots == nullptr) return nullptr;
  for (size_t at = HashId(text) & (kSlots - 1);; at = (at + 1) & (kSlots - 1)) {
    const Entry* entry = (*slots)[at].load(std::memory_order_acquire);
    if (entry == nullptr) return nullptr;  // never full: at most kMaxTexts of kSlots
    if (SameId(entry->text, text)) return &entry->converter;
  }
}

Result<double> CanonicalConverters::ConvertKept(Table& table, std::string_view text, std::string_view from,
                                                std::string_view to, double value) const {
  if (const Converter* kept = Find(table, text)) return kept->Convert(value);
  Converter converter(from, to, &analyte_);
  std::lock_guard lock(mutex_);
  if (Find(table, text) != nullptr || table.size >= kMaxTexts) return converter.Convert(value);
  Slots* slots = table.slots.load(std::memory_order_relaxed);
  if (slots == nullptr) {
    slots = new Slots{};  // every slot null
    table.slots.store(slots, std::memory_order_release);
  }
  size_t at = HashId(text) & (kSlots - 1);
  while ((*slots)[at].load(std::memory_order_relaxed) != nullptr) at = (at + 1) & (kSlots - 1);
  (*slots)[at].store(new Entry{std::string(text), converter}, std::memory_order_release);
  ++table.size;
  return converter.Convert(value);
}

}  // namespace nflux::units
