// Tests for engine/units: normalising unit text, parsing it, and converting lab values.
// Table-driven: good inputs with their results, bad inputs with their exact messages.

#include "units/units.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace nflux::units {
namespace {

// Analytes as the knowledge base describes them (molar masses in g/mol).
const Analyte kVitaminB12{"vitamin_b12", "pg/mL", 1355.4, {}};
const Analyte kVitaminD25{"vitamin_d_25oh", "ng/mL", 400.6, {}};
const Analyte kGlucose{"glucose", "mg/dL", 180.16, {}};
const Analyte kCreatinineUrine24h{"creatinine_urine_24h", "mg/(24.h)", 113.12, {}};
// 1 uIU/mL of insulin is 6 pmol/L.
const Analyte kInsulin{"insulin", "pmol/L", std::nullopt, {{"u[IU]/mL", 6}}};
// Magnesium is divalent: 2 meq = 1 mmol.
const Analyte kMagnesium{"magnesium", "mmol/L", 24.305, {{"meq/L", 0.5}}};
// NGSP % = 0.09148 x IFCC mmol/mol + 2.152 (the IFCC-NGSP master equation).
const Analyte kHba1c{"hba1c", "%", std::nullopt, {{"mmol/mol", 0.09148, 2.152}}};
const Analyte kCrp{"crp", "mg/L", std::nullopt, {}};
const Analyte kZeroMolarMass{"ferritin", "ng/mL", 0.0, {}};
const Analyte kZeroFactor{"broken", "pmol/L", std::nullopt, {{"u[IU]/mL", 0}}};

struct GoodConversion {
  double value;
  const char* from;
  const char* to;
  const Analyte* analyte;
  double expected;
  double tolerance;  // 0: must match to the last few bits (pure scaling).
};

const GoodConversion kGoodConversions[] = {
    {5, "ng/mL", "ug/L", nullptr, 5, 0},
    {5, "ug/L", "ng/mL", nullptr, 5, 0},
    {1, "ug/dL", "ng/mL", nullptr, 10, 0},
    {37, "ug/dL", "ng/mL", nullptr, 370, 0},
    {130, "pmol/L", "pg/mL", &kVitaminB12, 176.2, 0.1},
    {176.202, "pg/mL", "pmol/L", &kVitaminB12, 130, 1e-9},
    {400, "ng/L", "pmol/L", &kVitaminB12, 295.1158, 1e-4},
    {30, "ng/mL", "nmol/L", &kVitaminD25, 74.888, 1e-3},  // x2.496
    {1, "ng/mL", "nmol/L", &kVitaminD25, 2.496, 1e-3},
    {100, "mg/dL", "mmol/L", &kGlucose, 5.55, 0.01},
    {5.55, "mmol/L", "mg/dL", &kGlucose, 99.9888, 1e-9},
    {5, "mIU/L", "uIU/mL", nullptr, 5, 0},
    {5, "uIU/mL", "mIU/L", nullptr, 5, 0},
    {10, "u[IU]/mL", "pmol/L", &kInsulin, 60, 1e-12},
    {10, "µIU/mL", "pmol/L", &kInsulin, 60, 1e-12},
    {10, "mIU/L", "pmol/L", &kInsulin, 60, 1e-12},
    {60, "pmol/L", "uIU/mL", &kInsulin, 10, 1e-12},
    {10, "uIU/mL", "mIU/L", &kInsulin, 10, 0},
    {2, "mEq/L", "mmol/L", &kMagnesium, 1, 0},
    {1, "mmol/L", "meq/L", &kMagnesium, 2, 0},
    {2, "meq/L", "mg/dL", &kMagnesium, 2.4305, 1e-12},
    {2.4305, "mg/dL", "meq/L", &kMagnesium, 2, 1e-12},
    {6.5, "%", "mmol/mol", &kHba1c, 48, 0.5},
    {48, "mmol/mol", "%", &kHba1c, 6.5, 0.05},
    {6.5, "%", "%", &kHba1c, 6.5, 0},
    {1131.2, "mg/(24.h)", "umol/(24.h)", &kCreatinineUrine24h, 10000, 1e-9},
    {10000, "umol/(24.h)", "mg/(24.h)", &kCreatinineUrine24h, 1131.2, 1e-9},
    {1131.2, "mg/24h", "mmol/24 h", &kCreatinineUrine24h, 10, 1e-12},
    {1, "mg/24h", "mg/(24.h)", nullptr, 1, 0},
    {1, "mg/day", "mg/24 h", nullptr, 1, 0},
    {24, "mg/d", "mg/h", nullptr, 1, 0},
    {1440, "mg/(24.h)", "ug/min", nullptr, 1000, 0},
    {1, "mcg/dL", "ug/dL", nullptr, 1, 0},
    {1, "mcg/dl", "ng/mL", nullptr, 10, 0},
    {1.2, "g/dL", "g/L", nullptr, 12, 0},
    {0.5, "mg/dL", "mg/L", nullptr, 5, 0},  // hs-CRP is reported in both.
    {1, "%", "1", nullptr, 0.01, 0},
    {90, "mL/min/1.73m2", "mL/min/{1.73_m2}", nullptr, 90, 0},
    {1.5, "mL/min", "L/h", nullptr, 0.09, 0},
    {7, "10*9/L", "/nL", nullptr, 7, 0},
    {250, "10^3/uL", "10*9/L", nullptr, 250, 0},
    {40, "U/L", "mU/mL", nullptr, 40, 0},
    {1, "{cells}/uL", "/mL", nullptr, 1000, 0},
};

TEST(ConvertTest, GoodConversions) {
  for (const GoodConversion& row : kGoodConversions) {
    SCOPED_TRACE(std::to_string(row.value) + " " + row.from + " -> " + row.to);
    Result<double> converted = Convert(row.value, row.from, row.to, row.analyte);
    ASSERT_TRUE(converted.ok()) << converted.status().message();
    if (row.tolerance == 0) {
      EXPECT_DOUBLE_EQ(row.expected, *converted);
    } else {
      EXPECT_NEAR(row.expected, *converted, row.tolerance);
    }
  }
}

struct BadConversion {
  const char* from;
  const char* to;
  const Analyte* analyte;
  const char* error;
};

const BadConversion kBadConversions[] = {
    {"mg/dq", "mg/L", nullptr, "unknown unit 'mg/dq': 'dq' is not a unit"},
    {"mcg/dq", "mg/L", nullptr, "unknown unit 'mcg/dq' (read as 'ug/dq'): 'dq' is not a unit"},
    {"mg/L", "mmoll", nullptr, "unknown unit 'mmoll': 'mmoll' is not a unit (did you mean 'mmol', 'mol', 'nmol'?)"},
    {"Mg/L", "mg/L", nullptr,
     "unknown unit 'Mg/L': 'M' is not a supported prefix (use k, d, c, m, u, n, p, f)"},
    {"mg/kh", "mg/h", nullptr, "unknown unit 'mg/kh': 'kh' is not a unit ('h' takes no prefix)"},
    {"mg/(24.h", "mg/h", nullptr, "unit 'mg/(24.h' is missing ')'"},
    {"m[IU/L", "m[IU]/L", nullptr, "unit 'm[IU/L' is missing ']'"},
    {"{cells/uL", "/uL", nullptr, "unit '{cells/uL' is missing '}'"},
    {"mg//dL", "mg/dL", nullptr, "unit 'mg//dL': expected a unit at column 4, got '/'"},
    {"mg/", "mg/dL", nullptr, "unit 'mg/': expected a unit at column 4, got the end"},
    {"mg)/dL", "mg/dL", nullptr, "unit 'mg)/dL': unexpected ')' at column 3"},
    {"mg/dL", "mg#L", nullptr, "unit 'mg#L': unexpected '#' at column 3"},
    {"m999", "m", nullptr, "unit 'm999': exponent 999 at column 2 is out of range"},
    {"", "mg/L", nullptr, "unit is empty"},
    {"mg/L", "   ", nullptr, "unit is empty"},
    {"mg/dL", "%", nullptr, "cannot convert mg/dL (mass/volume) to % (dimensionless): incompatible dimensions"},
    {"U/L", "IU/L", nullptr,
     "cannot convert U/L (enzyme activity/volume) to [IU]/L (IU/volume): incompatible dimensions"},
    {"mg/(24.h)", "mg/dL", nullptr,
     "cannot convert mg/(24.h) (mass/time) to mg/dL (mass/volume): incompatible dimensions"},
    {"pg/mL", "pmol/L", nullptr,
     "cannot convert pg/mL to pmol/L without a molar mass; name the test (e.g. --test vitamin_b12)"},
    {"mg/L", "mmol/L", &kCrp, "cannot convert mg/L to mmol/L without a molar mass; analyte 'crp' has no molar_mass"},
    {"ng/mL", "nmol/L", &kZeroMolarMass,
     "cannot convert ng/mL to nmol/L without a molar mass; analyte 'ferritin' has molar_mass 0, which is not "
     "positive"},
    {"u[IU]/mL", "mg/dL", &kInsulin,
     "cannot convert u[IU]/mL to mg/dL for analyte 'insulin' through its canonical unit pmol/L: cannot convert "
     "pmol/L to mg/dL without a molar mass; analyte 'insulin' has no molar_mass"},
    {"mmol/mol", "mg/dL", &kHba1c,
     "cannot convert mmol/mol to mg/dL for analyte 'hba1c' through its canonical unit %: cannot convert % "
     "(dimensionless) to mg/dL (mass/volume): incompatible dimensions"},
    {"u[IU]/mL", "pmol/L", &kZeroFactor,
     "analyte 'broken' conversion from u[IU]/mL has factor 0 and offset 0; the factor must be non-zero and both "
     "finite"},
};

TEST(ConvertTest, BadConversions) {
  for (const BadConversion& row : kBadConversions) {
    SCOPED_TRACE(std::string(row.from) + " -> " + row.to);
    Result<double> converted = Convert(1, row.from, row.to, row.analyte);
    ASSERT_FALSE(converted.ok());
    EXPECT_EQ(Status::Code::kInvalidArgument, converted.status().code());
    EXPECT_EQ(row.error, converted.status().message());
  }
}

TEST(ConvertTest, RejectsValuesThatAreNotFinite) {
  Result<double> converted = Convert(std::numeric_limits<double>::quiet_NaN(), "mg/dL", "mg/L");
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ("cannot convert nan mg/dL: not a finite number", converted.status().message());
}

TEST(ConvertTest, AResultPastADoubleIsAnErrorNotInfinity) {
  Result<double> converted = Convert(1e300, "kg", "ug");
  ASSERT_FALSE(converted.ok());
  EXPECT_EQ("cannot convert 1e+300 kg to ug: the result is out of range", converted.status().message());
  EXPECT_DOUBLE_EQ(1e306, *Convert(1e297, "kg", "ug"));
}

TEST(ConvertTest, MetricPrefixesCancelExactly) {
  // The power of ten is kept apart from the mantissa, so these are exact, not merely close.
  EXPECT_EQ(10.0, *Convert(1, "ug/dL", "ng/mL"));
  EXPECT_EQ(0.1, *Convert(1, "ng/mL", "ug/dL"));
  EXPECT_EQ(1000.0, *Convert(1, "mg/L", "ug/L"));
  EXPECT_EQ(0.3, *Convert(3, "mg/L", "mg/dL"));
}

TEST(CheckConvertibleTest, AcceptsEveryUnitOfALabAndNamesTheOneThatFails) {
  EXPECT_TRUE(CheckConvertible("pmol/L", "pg/mL", &kVitaminB12).ok());
  EXPECT_TRUE(CheckConvertible("ng/L", "pg/mL", &kVitaminB12).ok());
  EXPECT_TRUE(CheckConvertible("mIU/L", "pmol/L", &kInsulin).ok());
  EXPECT_TRUE(CheckConvertible("mmol/mol", "%", &kHba1c).ok());
  Status status = CheckConvertible("nmol/L", "mg/L", &kCrp);
  EXPECT_EQ("cannot convert nmol/L to mg/L without a molar mass; analyte 'crp' has no molar_mass",
            status.message());
}

struct Normalisation {
  const char* text;
  const char* normalised;
};

const Normalisation kNormalisations[] = {
    {"mcg/dl", "ug/dL"},
    {"MCG/DL", "ug/dL"},
    {"\xC2\xB5g/L", "ug/L"},  // MICRO SIGN
    {"\xCE\xBCg/L", "ug/L"},  // GREEK SMALL LETTER MU
    {"uIU/mL", "u[IU]/mL"},
    {"\xC2\xB5IU/mL", "u[IU]/mL"},
    {"\xCE\xBCIU/ml", "u[IU]/mL"},
    {"mIU/L", "m[IU]/L"},
    {"IU/L", "[IU]/L"},
    {"[iU]/L", "[IU]/L"},
    {"m[IU]/L", "m[IU]/L"},
    {"mEq/L", "meq/L"},
    {"mg/24h", "mg/(24.h)"},
    {"mg/24 h", "mg/(24.h)"},
    {"mg/24hr", "mg/(24.h)"},
    {"mg/day", "mg/(24.h)"},
    {"mg/d", "mg/(24.h)"},
    {"mg/kg/d", "mg/kg/(24.h)"},
    {"umol/12h", "umol/(12.h)"},
    {"mg/(24.h)", "mg/(24.h)"},
    {"mL/min/1.73m2", "mL/min/{1.73_m2}"},
    {"mL/min/1.73 m\xC2\xB2", "mL/min/{1.73_m2}"},
    {"mL/min/{1.73_m2}", "mL/min/{1.73_m2}"},
    {"  ng/ml ", "ng/mL"},
    {"mg / DL", "mg/dL"},
    {"l", "L"},
    {"nmol/l", "nmol/L"},
    {"fl", "fL"},
    {"mmol/mol", "mmol/mol"},
    {"{cells}/uL", "{cells}/uL"},
    {"{white cells}/uL", "{white cells}/uL"},
    {"10*9/L", "10*9/L"},
    {"mg/dq", "mg/dq"},  // Left for ParseUnit to report.
    {"", ""},
};

TEST(NormaliseUnitTextTest, RewritesLabSpellingsToUcum) {
  for (const Normalisation& row : kNormalisations) {
    EXPECT_EQ(row.normalised, NormaliseUnitText(row.text)) << "text: '" << row.text << "'";
  }
}

struct Parsed {
  const char* text;
  const char* normalised;
  double mantissa;
  int decimal_exponent;
  const char* dimension;
};

const Parsed kParsed[] = {
    {"mg/dL", "mg/dL", 1, -2, "mass/volume"},
    {"mmol/L", "mmol/L", 1, -3, "amount/volume"},
    {"uIU/mL", "u[IU]/mL", 1, -3, "IU/volume"},
    {"mg/24h", "mg/(24.h)", 1.0 / 86400, -3, "mass/time"},
    {"umol/(24.h)", "umol/(24.h)", 1.0 / 86400, -6, "amount/time"},
    {"mL/min/1.73m2", "mL/min/{1.73_m2}", 1.0 / 60, -3, "volume/time"},
    {"U/L", "U/L", 1, 0, "enzyme activity/volume"},
    {"mEq/L", "meq/L", 1, -3, "equivalents/volume"},
    {"mg/dL/h", "mg/dL/h", 1.0 / 3600, -2, "mass/volume/time"},
    {"cm2", "cm2", 1, -4, "length^2"},
    {"/min", "/min", 1.0 / 60, 0, "1/time"},
    {"s-1", "s-1", 1, 0, "1/time"},
    {"g.m", "g.m", 1, 0, "mass.length"},
    {"%", "%", 1, -2, "dimensionless"},
    {"1", "1", 1, 0, "dimensionless"},
    {"1000/uL", "1000/uL", 1, 9, "1/volume"},
    {"mL{total}", "mL{total}", 1, -3, "volume"},
};

TEST(ParseUnitTest, KeepsNormalisedTextScaleAndDimension) {
  for (const Parsed& row : kParsed) {
    SCOPED_TRACE(row.text);
    Result<Unit> unit = ParseUnit(row.text);
    ASSERT_TRUE(unit.ok()) << unit.status().message();
    EXPECT_EQ(row.normalised, unit->text());
    EXPECT_DOUBLE_EQ(row.mantissa, unit->mantissa());
    EXPECT_EQ(row.decimal_exponent, unit->decimal_exponent());
    EXPECT_EQ(row.dimension, DescribeDimension(*unit));
  }
}

TEST(ParseUnitTest, SameDimensionComparesExponentsOnly) {
  const Unit mass_per_volume = *ParseUnit("mg/dL");
  EXPECT_TRUE(SameDimension(mass_per_volume, *ParseUnit("ug/L")));
  EXPECT_TRUE(SameDimension(mass_per_volume, *ParseUnit("g/(100.mL)")));
  EXPECT_FALSE(SameDimension(mass_per_volume, *ParseUnit("mmol/L")));
  EXPECT_TRUE(SameDimension(*ParseUnit("%"), *ParseUnit("mmol/mol")));  // Why HbA1c needs its analyte.
  EXPECT_EQ(1, ParseUnit("mg/dL")->exponent(BaseQuantity::kMass));
  EXPECT_EQ(-1, ParseUnit("mg/dL")->exponent(BaseQuantity::kVolume));
  EXPECT_TRUE(ParseUnit("{cells}")->IsDimensionless());
}

}  // namespace
}  // namespace nflux::units

namespace nflux::units {
namespace {

// Parentheses recurse in the parser: 100,000 of them once overflowed the stack.
TEST(ParseUnitLimits, DeepParenthesesAndLongTextAreRefusedWithTheLimit) {
  EXPECT_TRUE(ParseUnit("((((((((mg))))))))/L").ok());  // 8 levels
  Result<Unit> nine = ParseUnit("(((((((((mg)))))))))/L");
  ASSERT_FALSE(nine.ok());
  EXPECT_EQ("unit '(((((((((mg)))))))))/L': parentheses nested deeper than 8 (the limit)", nine.status().message());
  Result<Unit> deep = ParseUnit(std::string(50000, '(') + "mg" + std::string(50000, ')'));
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ("unit '((((((((((((((((((((((((...' is longer than 64 characters (the limit)", deep.status().message());
  Result<Unit> long_symbol = ParseUnit(std::string(65, 'g'));
  ASSERT_FALSE(long_symbol.ok());
  EXPECT_EQ("unit 'gggggggggggggggggggggggg...' is longer than 64 characters (the limit)",
            long_symbol.status().message());
}

// Unit texts of every sort for the kept converters: valid ones spelled many ways, invalid ones, and
// more distinct texts than are kept (the rest converted without being kept).
std::vector<std::string> ManyGlucoseUnitTexts() {
  std::vector<std::string> texts = {"mg/dL", "mg/dl", "mmol/L", "g/L", "mg/dq", "", "mmol/L ", " mg/dL", "ug/mL"};
  for (int i = 0; i < 2 * static_cast<int>(CanonicalConverters::kMaxTexts); ++i)
    texts.push_back(std::string(i % 7, ' ') + (i % 3 == 0 ? "mg/dL" : i % 3 == 1 ? "mmol/L" : "g/L") + std::string(i / 7, ' '));
  return texts;
}

void ExpectSameAsConverter(const CanonicalConverters& kept, const std::string& text, double value) {
  Result<double> direct = Converter(text, kGlucose.canonical_unit, &kGlucose).Convert(value);
  Result<double> from = kept.FromUnit(text, value);
  ASSERT_EQ(from.ok(), direct.ok()) << "'" << text << "'";
  if (direct.ok()) {
    EXPECT_EQ(*from, *direct) << "'" << text << "'";
  } else {
    EXPECT_EQ(from.status().message(), direct.status().message());
  }
  Result<double> back = Converter(kGlucose.canonical_unit, text, &kGlucose).Convert(value);
  Result<double> to = kept.ToUnit(text, value);
  ASSERT_EQ(to.ok(), back.ok()) << "'" << text << "'";
  if (back.ok()) {
    EXPECT_EQ(*to, *back) << "'" << text << "'";
  }
}

TEST(CanonicalConvertersTest, ConvertAsAConverterDoesKeptOrNot) {
  CanonicalConverters kept(kGlucose);
  for (int round = 0; round < 2; ++round)  // the second round from the kept converters
    for (const auto& text : ManyGlucoseUnitTexts()) ExpectSameAsConverter(kept, text, 90.5);
}

// Threads adding and finding texts at once (run under the sanitizers in CI): every answer is the
// converter's.
TEST(CanonicalConvertersTest, ThreadsAddAndFindTextsAtOnce) {
  CanonicalConverters kept(kGlucose);
  const std::vector<std::string> texts = ManyGlucoseUnitTexts();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = 0; i < texts.size(); ++i) {
        const std::string& text = texts[(i * 7 + static_cast<size_t>(t) * 13) % texts.size()];
        ExpectSameAsConverter(kept, text, 5.5 + static_cast<double>(t));
      }
    });
  for (auto& thread : threads) thread.join();
}

}  // namespace
}  // namespace nflux::units
