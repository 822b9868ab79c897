// The FHIR R4 import: any text is a case or a message naming where.
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nflux;
  auto imported = fuzz::Shipped().ImportFhir(fuzz::Text(data, size), {});
  if (!imported.ok()) fuzz::Require(!imported.status().message().empty(), "a rejected bundle without a message");
  return 0;
}
