// The knowledge loader on one file: any text is a knowledge base or problems, never a crash.
#include "fuzz_support.h"
#include "knowledge/knowledge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nflux;
  knowledge::LoadOutcome outcome = knowledge::LoadKnowledge({{"fuzz.json", std::string(fuzz::Text(data, size))}});
  (void)outcome;
  return 0;
}
