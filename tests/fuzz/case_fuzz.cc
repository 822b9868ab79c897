// The case parser and validator: any text is a case or a message, never a crash; the fast reader
// never accepts what the strict one rejects.
#include "case/case.h"
#include "case/parse_paths.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nflux;
  const std::string_view text = fuzz::Text(data, size);
  const knowledge::KnowledgeBase& kb = fuzz::Shipped().knowledge();
  for (bool strict : {false, true}) {
    casefile::ParseOptions options{strict, "fuzz.json"};
    std::optional<casefile::Case> fast = casefile::ParseCaseFast(text, kb, options);
    Result<casefile::Case> checked = casefile::ParseCaseStrict(text, kb, options);
    fuzz::Require(!fast || checked.ok(), "the fast reader accepted a case the strict reader rejects");
    if (!checked.ok()) fuzz::Require(!checked.status().message().empty(), "a rejected case without a message");
  }
  return 0;
}
