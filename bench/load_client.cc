// Load on a running `nflux serve`, from C++ so that the client costs the 2-core machine little:
// CLIENTS threads, each with one keep-alive connection, send CALLS patient-view hook calls in all
// (the prefetch of tests/service/data/ssri-record.bundle.json, a new hookInstance each); every answer
// must be 200 with cards. Prints one JSON line: throughput, p50/p99 latency, the service's resident
// memory after warm-up and at the end, and the CPU time per call of the service and of this client
// (from /proc), so that a shared machine's other load does not hide what a call costs.
//
//   nflux_load http://127.0.0.1:PORT SERVER_PID [CALLS] [CLIENTS]      (scripts/bench-serve runs it)
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "load_support.h"

namespace {

using nflux::bench::HookCallText;
using nflux::bench::OwnCpuSeconds;
using nflux::bench::Percentile;
using nflux::bench::ProcessCpuSeconds;
using nflux::bench::Round2;
using nflux::bench::SsriHookCall;

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double ResidentMb(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  return 0;
}

struct Shared {
  std::string host;
  int port = 0, pid = 0, calls = 0, warmup = 0;
  HookCallText hook_call;
  std::atomic<int> next{0}, errors{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;  // after warm-up
  double rss_after_warmup_mb = 0, server_cpu_at_warmup = 0, client_cpu_at_warmup = 0;
  Clock::time_point warm;
};

void Client(Shared& shared) {
  httplib::Client client(shared.host, shared.port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // headers and body are two writes: without it Nagle holds the body 40 ms
  client.set_read_timeout(30);
  std::vector<double> latencies;
  for (int index; (index = shared.next++) < shared.calls;) {
    if (index == shared.warmup) {
      std::lock_guard lock(shared.mutex);
      shared.rss_after_warmup_mb = ResidentMb(shared.pid);
      shared.server_cpu_at_warmup = ProcessCpuSeconds(shared.pid);
      shared.client_cpu_at_warmup = OwnCpuSeconds();
      shared.warm = Clock::now();
    }
    std::string body = shared.hook_call.With("load-" + std::to_string(index));
    auto started = Clock::now();
    auto answer = client.Post("/cds-services/neuroflux-patient-view", body, "application/json");
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    if (!answer || answer->status != 200 || answer->body.find("\"cards\"") == std::string::npos) {
      if (shared.errors++ < 5)
        std::cerr << "load: call " << index << ": "
                  << (answer ? std::to_string(answer->status) + " " + answer->body.substr(0, 200)
                             : httplib::to_string(answer.error()))
                  << "\n";
    }
    if (index >= shared.warmup) latencies.push_back(ms);
  }
  std::lock_guard lock(shared.mutex);
  shared.latencies_ms.insert(shared.latencies_ms.end(), latencies.begin(), latencies.end());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: nflux_load http://127.0.0.1:PORT SERVER_PID [CALLS] [CLIENTS]\n";
    return 2;
  }
  std::string url = argv[1];
  Shared shared;
  auto colon = url.rfind(':');
  shared.host = url.substr(url.find("//") + 2, colon - url.find("//") - 2);
  shared.port = std::stoi(url.substr(colon + 1));
  shared.pid = std::stoi(argv[2]);
  shared.calls = argc > 3 ? std::stoi(argv[3]) : 20000;
  int clients = argc > 4 ? std::stoi(argv[4]) : 16;
  shared.warmup = std::min(1000, shared.calls / 10);

  shared.hook_call = SsriHookCall();

  auto started = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) threads.emplace_back(Client, std::ref(shared));
  for (auto& thread : threads) thread.join();
  auto ended = Clock::now();
  double seconds = std::chrono::duration<double>(ended - started).count();
  double measured_seconds = std::chrono::duration<double>(ended - shared.warm).count();
  double measured_calls = static_cast<double>(shared.calls - shared.warmup);

  json out = {{"calls", shared.calls},
              {"clients", clients},
              {"errors", shared.errors.load()},
              {"seconds", Round2(seconds)},
              {"calls_per_second", static_cast<long>(static_cast<double>(shared.calls) / seconds + 0.5)},
              {"calls_per_second_after_warmup", static_cast<long>(measured_calls / measured_seconds + 0.5)},
              {"p50_ms", Round2(Percentile(shared.latencies_ms, 0.5))},
              {"p99_ms", Round2(Percentile(shared.latencies_ms, 0.99))},
              {"server_cpu_ms_per_call", Round2((ProcessCpuSeconds(shared.pid) - shared.server_cpu_at_warmup) * 1000 / measured_calls)},
              {"client_cpu_ms_per_call", Round2((OwnCpuSeconds() - shared.client_cpu_at_warmup) * 1000 / measured_calls)},
              {"rss_after_warmup_mb", Round2(shared.rss_after_warmup_mb)},
              {"rss_end_mb", Round2(ResidentMb(shared.pid))}};
  std::cout << out.dump() << std::endl;
  return shared.errors ? 1 : 0;
}
