// What the two load clients share (bench/load_client.cc: one service; bench/replica_load.cc:
// replicas behind a load balancer) and the service tests: the hook call they send, the CPU time of
// a process, and the percentiles they report.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nflux::bench {

using nlohmann::json;

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The prefetch a patient-view call carries, as load.mjs builds it: the patient and one
// searchset Bundle per prefetch key.
inline json Prefetch(const json& record) {
  auto by_type = [&](const std::string& type) {
    json entries = json::array();
    for (const auto& entry : record["entry"])
      if (entry["resource"]["resourceType"] == type) entries.push_back({{"resource", entry["resource"]}});
    return json{{"resourceType", "Bundle"}, {"type", "searchset"}, {"entry", entries}};
  };
  return {{"patient", record["entry"][0]["resource"]},
          {"observations", by_type("Observation")},
          {"medicationStatements", by_type("MedicationStatement")},
          {"medicationRequests", by_type("MedicationRequest")},
          {"conditions", by_type("Condition")}};
}

// A patient-view call with the prefetch of tests/service/data/ssri-record.bundle.json, as text
// around its hookInstance (each call names its own): With(instance) is the whole body.
struct HookCallText {
  std::string prefix, suffix;
  std::string With(std::string_view hook_instance) const { return prefix + std::string(hook_instance) + suffix; }
};

inline HookCallText SsriHookCall() {
  const json record = json::parse(ReadFile(std::string(NFLUX_SOURCE_DIR) + "/tests/service/data/ssri-record.bundle.json"));
  const json call = {{"hook", "patient-view"}, {"hookInstance", "@@"}, {"context", {{"patientId", "p-ssri"}}},
                     {"prefetch", Prefetch(record)}};
  const std::string body = call.dump();
  const size_t mark = body.find("@@");
  return {body.substr(0, mark), body.substr(mark + 2)};
}

// The q-quantile (0.5: the median) of `values`, which it sorts; 0 for none.
inline double Percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * static_cast<double>(values.size())))];
}

inline double Round2(double x) { return static_cast<double>(static_cast<long>(x * 100 + 0.5)) / 100; }

// User + system CPU seconds of process `pid` (/proc/PID/stat fields 14 and 15); 0 once it is gone.
inline double ProcessCpuSeconds(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  if (text.empty()) return 0;
  std::istringstream fields(text.substr(text.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i)
    if (i >= 14) ticks += std::stol(field);
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// ProcessCpuSeconds of `pid` and of its children now: a database server and its sessions
// (PostgreSQL starts a process per connection, and pools open theirs as requests need them).
inline double ProcessTreeCpuSeconds(int pid) {
  double seconds = ProcessCpuSeconds(pid);
  std::ifstream children("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  for (int child = 0; children >> child;) seconds += ProcessCpuSeconds(child);
  return seconds;
}

inline double OwnCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace nflux::bench
