// Unit parsing and conversion: "FROM\nTO" (a second line optional), converted with and without an
// analyte's molar mass. Every result is a finite number or a message.
#include <cmath>

#include "fuzz_support.h"
#include "units/units.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nflux;
  const std::string_view text = fuzz::Text(data, size);
  const size_t newline = text.find('\n');
  const std::string_view from = text.substr(0, newline);
  const std::string_view to = newline == std::string_view::npos ? std::string_view("mg/dL") : text.substr(newline + 1);
  (void)units::ParseUnit(from);
  const knowledge::Node* ferritin = fuzz::Shipped().knowledge().Find("ferritin");
  for (double value : {1.5, 0.0, 1e300}) {
    Result<double> converted = units::Convert(value, from, to);
    if (converted.ok()) fuzz::Require(std::isfinite(*converted), "a conversion gave a number that is not finite");
    if (ferritin && ferritin->lab) (void)ferritin->lab->to_canonical->FromUnit(std::string(from), value);
  }
  return 0;
}
