// Load on nflux serve replicas behind a load balancer (tests/replica/replica_test.sh,
// scripts/bench-replicas), from C++ so that the client costs the 2-core machine little. CLIENTS
// threads, each with one keep-alive connection to the balancer, send REQUESTS requests in all:
// patient-view hook calls (the prefetch of tests/service/data/ssri-record.bundle.json, hookInstance
// "replica-INDEX"), and with --account every WEB_EVERY-th request a page of the web app in that
// practitioner's session (the case list, then the patient page of a case the client entered
// beforehand), signed in once per thread so that its pages land on different replicas.
//
// A request that fails on a connection error, 502 or 503 (a replica killed with the request in
// flight, or none up) is sent again, up to --max-attempts times; those are counted as retries, and
// the hook instances retried are written to --retried (a retried call may have been stored before
// its replica died). Any other failure is an error. Prints one JSON line: counts, throughput,
// p50/p99 latency (first attempt to answer), and the CPU time per request (from /proc, after the
// warm-up) of this client and, when given, of the replicas (--pids), the load balancer (--proxy-pid)
// and the database server (--store-pids: its main processes, each with its children at the time:
// a session opened after the warm-up counts whole, one that ended before the end is not counted).
//
//   nflux_replica_load --url http://127.0.0.1:PORT [--requests N] [--clients N] [--warmup N]
//       [--account NAME --password-file FILE --case CASE.json [--web-every K]]
//       [--progress FILE] [--retried FILE] [--max-attempts N] [--pids PID,...] [--proxy-pid PID]
//       [--store-pids PID,...]
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
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
using nflux::bench::ProcessTreeCpuSeconds;
using nflux::bench::ReadFile;
using nflux::bench::Round2;
using nflux::bench::SsriHookCall;

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kHookPath = "/cds-services/neuroflux-patient-view";

struct Options {
  std::string host;
  int port = 0;
  int requests = 20000, clients = 16, warmup = 0, web_every = 10, max_attempts = 30;
  std::string account, password, case_path, progress_path, retried_path;
  std::vector<int> pids, store_pids;
  int proxy_pid = 0;
};

struct CpuMark {
  double service = 0, proxy = 0, store = 0, client = 0;
};

CpuMark MarkCpu(const Options& options) {
  CpuMark mark;
  for (int pid : options.pids) mark.service += ProcessCpuSeconds(pid);
  for (int pid : options.store_pids) mark.store += ProcessTreeCpuSeconds(pid);
  if (options.proxy_pid) mark.proxy = ProcessCpuSeconds(options.proxy_pid);
  mark.client = OwnCpuSeconds();
  return mark;
}

// The value of cookie `name` in a Set-Cookie header, or "".
std::string CookieValue(const httplib::Result& answer, const std::string& name) {
  for (const auto& [header, value] : answer->headers) {
    if (header.size() != 10 || strncasecmp(header.c_str(), "set-cookie", 10) != 0) continue;
    if (value.rfind(name + "=", 0) == 0) return value.substr(name.size() + 1, value.find(';') - name.size() - 1);
  }
  return "";
}

// The text between `before` and the next `after` in `text`, or "".
std::string Between(const std::string& text, const std::string& before, const std::string& after) {
  auto start = text.find(before);
  if (start == std::string::npos) return "";
  start += before.size();
  auto end = text.find(after, start);
  return end == std::string::npos ? "" : text.substr(start, end - start);
}

// One connection to the balancer with the retry rule above. `retries` counts the extra attempts.
class Connection {
 public:
  // The retries of every connection, by what the failed attempt got.
  static inline std::atomic<int> retried_on_connection{0}, retried_on_502{0}, retried_on_503{0};

  explicit Connection(const Options& options) : options_(options), client_(options.host, options.port) {
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);  // headers and body are two writes: without it Nagle holds the body 40 ms
    client_.set_read_timeout(30);
  }

  httplib::Result Send(const std::function<httplib::Result(httplib::Client&)>& request, int& retries) {
    for (int attempt = 1;; ++attempt) {
      httplib::Result answer = request(client_);
      const bool retry = !answer || answer->status == 502 || answer->status == 503;
      if (!retry || attempt >= options_.max_attempts) return answer;
      ++retries;
      ++(!answer ? retried_on_connection : answer->status == 502 ? retried_on_502 : retried_on_503);
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(10 * attempt, 200)));
    }
  }

 private:
  const Options& options_;
  httplib::Client client_;
};

std::string Describe(const httplib::Result& answer) {
  if (!answer) return "no answer (connection error: " + httplib::to_string(answer.error()) + ")";
  return std::to_string(answer->status) + " " + answer->body.substr(0, 200);
}

// A practitioner's session: the session cookie header and the CSRF token of its pages.
struct Session {
  std::string cookie, csrf;
};

std::optional<Session> SignIn(Connection& connection, const Options& options, std::string& error) {
  int retries = 0;
  auto form = connection.Send([](httplib::Client& c) { return c.Get("/app/login"); }, retries);
  const std::string login = form ? CookieValue(form, "nflux_login") : "";
  if (!form || form->status != 200 || login.empty()) {
    error = "GET /app/login: " + Describe(form);
    return std::nullopt;
  }
  httplib::Params fields{{"csrf", login}, {"name", options.account}, {"password", options.password}};
  auto posted = connection.Send(
      [&](httplib::Client& c) { return c.Post("/app/login", {{"Cookie", "nflux_login=" + login}}, fields); }, retries);
  const std::string session = posted ? CookieValue(posted, "nflux_session") : "";
  if (!posted || posted->status != 303 || session.empty()) {
    error = "POST /app/login: " + Describe(posted);
    return std::nullopt;
  }
  Session out{"nflux_session=" + session, ""};
  auto home = connection.Send([&](httplib::Client& c) { return c.Get("/app/", {{"Cookie", out.cookie}}); }, retries);
  out.csrf = home ? Between(home->body, "<meta name='csrf-token' content='", "'") : "";
  if (!home || home->status != 200 || out.csrf.empty()) {
    error = "GET /app/ after signing in: " + Describe(home);
    return std::nullopt;
  }
  return out;
}

// Enters the case in `options.case_path` through the web app; returns its case id.
std::optional<std::string> EnterCase(Connection& connection, const Session& session, const Options& options,
                                     std::string& error) {
  const std::string body = ReadFile(options.case_path);
  int retries = 0;
  auto answer = connection.Send(
      [&](httplib::Client& c) {
        return c.Post("/app/api/cases", {{"Cookie", session.cookie}, {"X-CSRF-Token", session.csrf}}, body,
                      "application/json");
      },
      retries);
  if (!answer || answer->status != 201) {
    error = "POST /app/api/cases: " + Describe(answer);
    return std::nullopt;
  }
  return json::parse(answer->body).at("case_id").get<std::string>();
}

enum class Kind { kHook, kCaseList, kPatient };

struct Shared {
  Options options;
  HookCallText hook_call;
  std::string case_id;
  std::atomic<int> next{0}, done{0}, errors{0}, hook_retries{0}, web_retries{0};
  std::atomic<bool> finished{false};
  std::mutex mutex;
  std::map<Kind, std::vector<double>> latencies_ms;  // after warm-up
  std::vector<std::string> retried;                  // hook instances sent more than once
  std::vector<std::string> setup_errors;
  CpuMark at_warm;
  Clock::time_point started, warm;
};

Kind KindOf(const Shared& shared, int index) {
  const int every = shared.options.account.empty() ? 0 : shared.options.web_every;
  if (every <= 0 || index % every != every - 1) return Kind::kHook;
  return (index / every) % 2 == 0 ? Kind::kCaseList : Kind::kPatient;
}

// Whether `answer` is the right one for a request of `kind`.
bool Good(const Shared& shared, Kind kind, const httplib::Result& answer) {
  if (!answer || answer->status != 200) return false;
  switch (kind) {
    case Kind::kHook: return answer->body.find("\"cards\"") != std::string::npos;
    case Kind::kCaseList: return answer->body.find("<h1>Patients</h1>") != std::string::npos;
    case Kind::kPatient: return answer->body.find(shared.case_id) != std::string::npos;
  }
  return false;
}

void Client(Shared& shared, std::barrier<>& ready) {
  const Options& options = shared.options;
  Connection connection(options);
  std::optional<Session> session;
  if (!options.account.empty()) {
    std::string error;
    session = SignIn(connection, options, error);
    if (!session) {
      std::lock_guard lock(shared.mutex);
      shared.setup_errors.push_back("signing in: " + error);
    }
  }
  ready.arrive_and_wait();  // every client signed in; the main thread marks the start
  ready.arrive_and_wait();
  if (!shared.setup_errors.empty()) return;

  std::map<Kind, std::vector<double>> latencies;
  std::vector<std::string> retried;
  for (int index; (index = shared.next++) < options.requests;) {
    if (index == options.warmup) {
      std::lock_guard lock(shared.mutex);
      shared.at_warm = MarkCpu(options);
      shared.warm = Clock::now();
    }
    const Kind kind = KindOf(shared, index);
    const std::string instance = "replica-" + std::to_string(index);
    int retries = 0;
    auto started = Clock::now();
    httplib::Result answer = connection.Send(
        [&](httplib::Client& c) {
          if (kind == Kind::kHook)
            return c.Post(kHookPath, shared.hook_call.With(instance), "application/json");
          if (kind == Kind::kCaseList) return c.Get("/app/", {{"Cookie", session->cookie}});
          return c.Get("/app/cases/" + shared.case_id, {{"Cookie", session->cookie}});
        },
        retries);
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    if (retries > 0) {
      (kind == Kind::kHook ? shared.hook_retries : shared.web_retries) += retries;
      if (kind == Kind::kHook) retried.push_back(instance);
    }
    if (!Good(shared, kind, answer)) {
      if (shared.errors++ < 5) {
        static const char* kNames[] = {"hook call", "case list", "patient page"};
        std::cerr << "replica_load: request " << index << " (" << kNames[static_cast<int>(kind)] << ", "
                  << retries << " retries): " << Describe(answer) << "\n";
      }
    }
    if (index >= options.warmup) latencies[kind].push_back(ms);
    ++shared.done;
  }
  std::lock_guard lock(shared.mutex);
  for (auto& [kind, list] : latencies)
    shared.latencies_ms[kind].insert(shared.latencies_ms[kind].end(), list.begin(), list.end());
  shared.retried.insert(shared.retried.end(), retried.begin(), retried.end());
}

// Writes the count of answered requests to `path` every 50 ms (whole: a temporary file renamed),
// so that a script can act at a point of the run.
void ReportProgress(Shared& shared, const std::string& path) {
  while (!shared.finished) {
    {
      std::ofstream out(path + ".tmp");
      out << shared.done.load() << "\n";
    }
    std::filesystem::rename(path + ".tmp", path);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::optional<Options> ParseArgs(int argc, char** argv) {
  Options options;
  std::string url, password_file;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const std::string value = argv[++i];
    if (flag == "--url") url = value;
    else if (flag == "--requests") options.requests = std::stoi(value);
    else if (flag == "--clients") options.clients = std::stoi(value);
    else if (flag == "--warmup") options.warmup = std::stoi(value);
    else if (flag == "--web-every") options.web_every = std::stoi(value);
    else if (flag == "--max-attempts") options.max_attempts = std::max(1, std::stoi(value));
    else if (flag == "--account") options.account = value;
    else if (flag == "--password-file") password_file = value;
    else if (flag == "--case") options.case_path = value;
    else if (flag == "--progress") options.progress_path = value;
    else if (flag == "--retried") options.retried_path = value;
    else if (flag == "--proxy-pid") options.proxy_pid = std::stoi(value);
    else if (flag == "--pids" || flag == "--store-pids") {
      std::stringstream list(value);
      for (std::string pid; std::getline(list, pid, ',');)
        (flag == "--pids" ? options.pids : options.store_pids).push_back(std::stoi(pid));
    } else {
      return std::nullopt;
    }
  }
  auto colon = url.rfind(':');
  auto slashes = url.find("//");
  if (url.empty() || colon == std::string::npos || slashes == std::string::npos) return std::nullopt;
  options.host = url.substr(slashes + 2, colon - slashes - 2);
  options.port = std::stoi(url.substr(colon + 1));
  if (!options.account.empty()) {
    if (password_file.empty() || options.case_path.empty()) return std::nullopt;
    options.password = ReadFile(password_file);
    while (!options.password.empty() && (options.password.back() == '\n' || options.password.back() == '\r'))
      options.password.pop_back();
  }
  options.warmup = std::clamp(options.warmup, 0, options.requests - 1);
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> parsed = ParseArgs(argc, argv);
  if (!parsed) {
    std::cerr << "usage: nflux_replica_load --url http://127.0.0.1:PORT [--requests N] [--clients N] [--warmup N]\n"
                 "    [--account NAME --password-file FILE --case CASE.json [--web-every K]]\n"
                 "    [--progress FILE] [--retried FILE] [--max-attempts N] [--pids PID,...] [--proxy-pid PID]\n"
                 "    [--store-pids PID,...]\n";
    return 2;
  }
  Shared shared;
  shared.options = *parsed;
  const Options& options = shared.options;

  shared.hook_call = SsriHookCall();

  // The case the patient pages show: entered once, by a session of its own.
  if (!options.account.empty()) {
    Connection connection(options);
    std::string error;
    std::optional<Session> session = SignIn(connection, options, error);
    std::optional<std::string> case_id;
    if (session) case_id = EnterCase(connection, *session, options, error);
    if (!case_id) {
      std::cerr << "replica_load: setting up the web session: " << error << "\n";
      return 1;
    }
    shared.case_id = *case_id;
  }

  std::barrier ready(options.clients + 1);
  std::vector<std::thread> threads;
  for (int i = 0; i < options.clients; ++i) threads.emplace_back(Client, std::ref(shared), std::ref(ready));
  ready.arrive_and_wait();
  shared.started = shared.warm = Clock::now();
  shared.at_warm = MarkCpu(options);
  ready.arrive_and_wait();
  std::thread progress;
  if (!options.progress_path.empty()) progress = std::thread(ReportProgress, std::ref(shared), options.progress_path);
  for (auto& thread : threads) thread.join();
  auto ended = Clock::now();
  const CpuMark at_end = MarkCpu(options);
  shared.finished = true;
  if (progress.joinable()) progress.join();
  if (!options.progress_path.empty()) std::ofstream(options.progress_path) << shared.done.load() << "\n";
  for (const std::string& error : shared.setup_errors) std::cerr << "replica_load: " << error << "\n";
  if (!shared.setup_errors.empty()) return 1;

  if (!options.retried_path.empty()) {
    std::ofstream out(options.retried_path);
    for (const std::string& instance : shared.retried) out << instance << "\n";
  }
  const double seconds = std::chrono::duration<double>(ended - shared.started).count();
  const double measured_seconds = std::chrono::duration<double>(ended - shared.warm).count();
  const double measured = static_cast<double>(options.requests - options.warmup);
  std::vector<double> all;
  for (auto& [kind, list] : shared.latencies_ms) all.insert(all.end(), list.begin(), list.end());
  auto& hooks = shared.latencies_ms[Kind::kHook];
  std::vector<double> web = shared.latencies_ms[Kind::kCaseList];
  web.insert(web.end(), shared.latencies_ms[Kind::kPatient].begin(), shared.latencies_ms[Kind::kPatient].end());
  int hook_calls = 0;
  for (int i = 0; i < options.requests; ++i) hook_calls += KindOf(shared, i) == Kind::kHook;

  json out = {{"requests", options.requests},
              {"hook_calls", hook_calls},
              {"web_requests", options.requests - hook_calls},
              {"clients", options.clients},
              {"errors", shared.errors.load()},
              {"retries", shared.hook_retries + shared.web_retries},
              {"hook_retries", shared.hook_retries.load()},
              {"web_retries", shared.web_retries.load()},
              {"hook_calls_retried", shared.retried.size()},
              {"retried_on", {{"connection_error", Connection::retried_on_connection.load()},
                              {"502", Connection::retried_on_502.load()},
                              {"503", Connection::retried_on_503.load()}}},
              {"seconds", Round2(seconds)},
              {"requests_per_second", static_cast<long>(measured / measured_seconds + 0.5)},
              {"p50_ms", Round2(Percentile(all, 0.5))},
              {"p99_ms", Round2(Percentile(all, 0.99))},
              {"hook_p50_ms", Round2(Percentile(hooks, 0.5))},
              {"hook_p99_ms", Round2(Percentile(hooks, 0.99))}};
  if (!web.empty()) {
    out["web_p50_ms"] = Round2(Percentile(web, 0.5));
    out["web_p99_ms"] = Round2(Percentile(web, 0.99));
    out["case_id"] = shared.case_id;
  }
  if (!options.pids.empty())
    out["service_cpu_ms_per_request"] = Round2((at_end.service - shared.at_warm.service) * 1000 / measured);
  if (!options.store_pids.empty())
    out["store_cpu_ms_per_request"] = Round2((at_end.store - shared.at_warm.store) * 1000 / measured);
  if (options.proxy_pid) out["proxy_cpu_ms_per_request"] = Round2((at_end.proxy - shared.at_warm.proxy) * 1000 / measured);
  out["client_cpu_ms_per_request"] = Round2((at_end.client - shared.at_warm.client) * 1000 / measured);
  std::cout << out.dump() << std::endl;
  return shared.errors ? 1 : 0;
}
