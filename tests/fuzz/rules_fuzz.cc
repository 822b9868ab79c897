// The rule language: lexer, parser, checker and stratification on one file against the shipped
// knowledge base. Any text loads or gives errors with a place.
#include "fuzz_support.h"
#include "rules/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nflux;
  rules::LoadResult loaded =
      rules::LoadRules({{"fuzz.rules", std::string(fuzz::Text(data, size)), "fuzz.rules"}}, fuzz::Shipped().knowledge());
  fuzz::Require((loaded.rules != nullptr) != !loaded.errors.empty(), "rules and errors both, or neither");
  for (const auto& error : loaded.errors) fuzz::Require(error.at.line >= 1, "an error without a line");
  return 0;
}
