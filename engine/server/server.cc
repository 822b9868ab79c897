// cpp-httplib wrapped: requests translated to cds::HttpRequest and back, limits, the thread pool,
// graceful stop; and the HTTP FHIR client.
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <csignal>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <httplib.h>

#include "base/json.h"
#include "base/limits.h"

namespace nflux::server {
namespace {

cds::HttpRequest Translate(const httplib::Request& request) {
  cds::HttpRequest out{request.method, request.path, {}, request.body};
  for (const auto& [name, value] : request.params) out.query.emplace(name, value);
  for (const auto& [name, value] : request.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    out.headers[lower] = value;
  }
  return out;
}

void Answer(const cds::HttpResponse& response, httplib::Response& out) {
  out.status = response.status;
  std::string content_type = "application/json; charset=utf-8";
  for (const auto& [name, value] : response.headers) {
    if (name == "Content-Type") content_type = value;
    else out.set_header(name, value);
  }
  if (!response.body.empty()) out.set_content(response.body, content_type);
}

// httplib answers some errors itself (413 for a body over the limit, 400 for a malformed request
// line) with no body: give them the service's JSON error body.
void FillErrorBody(const httplib::Request& request, httplib::Response& response) {
  if (!response.body.empty()) return;
  std::string message = response.status == 413 ? "the request body is larger than the limit"
                        : response.status == 408 ? "the request was not received in time"
                                                 : "the request could not be read";
  nlohmann::ordered_json body = {{"error", {{"status", response.status}, {"message", message}, {"path", ""}}}};
  response.set_content(body.dump(), "application/json; charset=utf-8");
  response.set_header("Access-Control-Allow-Origin", request.has_header("Origin") ? request.get_header_value("Origin") : "*");
}

}  // namespace

struct Server::Impl {
  Impl(Handler handler, ServerOptions options) : handler(std::move(handler)), options(std::move(options)) {}
  Handler handler;
  ServerOptions options;
  httplib::Server http;
};

namespace {

// A keep-alive connection holds its worker while it stays busy (httplib serves a connection's
// requests on one thread): with a worker per core, 16 keep-alive clients on 2 cores made 14 of them
// wait for others' connections to close (calls waited seconds). Enough workers for every usual
// client to have its own; the work is CPU-bound, so more than that only adds switching.
int DefaultThreads() {
  return static_cast<int>(std::max(16u, 2 * std::thread::hardware_concurrency()));
}

}  // namespace

int WorkerThreads(const ServerOptions& options) { return options.threads > 0 ? options.threads : DefaultThreads(); }

namespace {

// httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG, compiled into Debian's library):
// when 16 clients connect at once, the connections beyond it were dropped and their first call
// failed (measured: 3 of 3,000 calls). listen() again on a listening socket only changes its backlog,
// so find ours (the listening socket on `port`) and give it the system's maximum.
void WidenListenBacklog(int port) {
  for (int fd = 3; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t size = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening) continue;
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) continue;
    int bound = address.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port)
                : address.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port)
                                                : -1;
    if (bound == port) listen(fd, SOMAXCONN);
  }
}

}  // namespace

Server::Server(const cds::Service& service, ServerOptions options)
    : Server([&service](const cds::HttpRequest& request) { return service.Handle(request); }, std::move(options)) {}

Server::Server(Handler handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {
  auto& http = impl_->http;
  int threads = WorkerThreads(impl_->options);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_payload_max_length(impl_->options.max_body);
  http.set_read_timeout(impl_->options.read_timeout_seconds, 0);
  http.set_write_timeout(impl_->options.write_timeout_seconds, 0);
  http.set_keep_alive_timeout(impl_->options.keep_alive_seconds);
  http.set_keep_alive_max_count(1000);  // httplib's default closes a connection after 5 requests
  // Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the client's
  // delayed ACK hold the second for 40 ms (measured: 44 ms a call with one client, 1 ms without).
  http.set_tcp_nodelay(true);
  const Handler* serving = &impl_->handler;
  auto serve = [serving](const httplib::Request& request, httplib::Response& response) {
    Answer((*serving)(Translate(request)), response);
  };
  http.Get(".*", serve).Post(".*", serve).Options(".*", serve).Put(".*", serve).Delete(".*", serve).Patch(".*", serve);
  http.set_error_handler(FillErrorBody);
}

Server::~Server() = default;

Result<int> Server::Bind() {
  auto& o = impl_->options;
  int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host) : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) return Status::IOError("cannot listen on " + o.host + ":" + std::to_string(o.port) + " (in use, or not an address of this machine)");
  WidenListenBacklog(port);
  return port;
}

Status Server::Run() {
  if (!impl_->http.listen_after_bind() && impl_->http.is_running())
    return Status::IOError("the server stopped accepting connections");
  return Status::Ok();
}

void Server::Stop() { impl_->http.stop(); }

StopOnSignals::StopOnSignals(Server& server) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  waiter_ = std::thread([this, &server, set] {
    int signal = 0;
    sigwait(&set, &signal);
    if (!ending_) {
      signalled_ = true;
      server.Stop();
    }
  });
}

StopOnSignals::~StopOnSignals() {
  // Wake the waiter if no signal came: SIGTERM aimed at it alone (blocked, so sigwait takes it).
  if (!signalled_) {
    ending_ = true;
    // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread): the waiter blocks SIGTERM and takes it with sigwait
    pthread_kill(waiter_.native_handle(), SIGTERM);
  }
  waiter_.join();
}

Result<nlohmann::json> HttpFhirClient::Get(const std::string& url, const std::string& bearer) const {
  size_t scheme_end = url.find("://");
  size_t path_start = scheme_end == std::string::npos ? std::string::npos : url.find('/', scheme_end + 3);
  if (path_start == std::string::npos) return Status::InvalidArgument(url + ": not an absolute URL with a path");
  httplib::Client client(url.substr(0, path_start));
  client.set_connection_timeout(timeout_seconds_, 0);
  client.set_read_timeout(timeout_seconds_, 0);
  client.set_write_timeout(timeout_seconds_, 0);
  if (!bearer.empty()) client.set_bearer_token_auth(bearer);
  // The body is received up to the input limit, never held whole past it.
  std::string body;
  bool too_large = false;
  auto response = client.Get(url.substr(path_start), {{"Accept", "application/fhir+json"}},
                             [&](const char* data, size_t length) {
                               too_large = body.size() + length > limits::kMaxInputBytes;
                               if (!too_large) body.append(data, length);
                               return !too_large;
                             });
  if (too_large)
    return Status::InvalidArgument("GET " + url + ": the response is larger than the limit of " +
                                   std::to_string(limits::kMaxInputBytes >> 20) + " MiB");
  if (!response) return Status::IOError("GET " + url + ": " + httplib::to_string(response.error()));
  if (response->status != 200)
    return Status::IOError("GET " + url + ": HTTP " + std::to_string(response->status));
  return ParseJsonDocument(body, url);
}

}  // namespace nflux::server
