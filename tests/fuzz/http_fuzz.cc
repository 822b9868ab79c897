// The HTTP request handler of `nflux serve`, in process (no sockets, no store): the first line is
// "METHOD PATH", the rest the body. Every request gets a response; none is a server error.
#include "cds/cds.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace nflux;
  static const cds::Service service(fuzz::Shipped(), nullptr, {});
  const std::string_view text = fuzz::Text(data, size);
  const size_t newline = text.find('\n');
  const std::string_view line = text.substr(0, newline);
  const size_t space = line.find(' ');
  cds::HttpRequest request;
  request.method = std::string(line.substr(0, space));
  request.path = space == std::string_view::npos ? "/" : std::string(line.substr(space + 1));
  request.headers["content-type"] = "application/json";
  if (newline != std::string_view::npos) request.body = std::string(text.substr(newline + 1));
  cds::HttpResponse response = service.Handle(request);
  fuzz::Require(response.status >= 200 && response.status < 500, "a request answered with a server error");
  return 0;
}
