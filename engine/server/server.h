// The HTTP front of the CDS Hooks service: cpp-httplib (Debian's libcpp-httplib-dev) carrying bytes
// between sockets and cds::Service::Handle(), which holds all of the service's logic.
//
//   server::Server server(service, {.host = "127.0.0.1", .port = 0});
//   auto port = server.Bind();                      // the port bound (0: any free one)
//   server::StopOnSignals stop(server);             // SIGTERM / SIGINT stop it gracefully
//   Status served = server.Run();                   // returns once stopped
//
// A fixed pool of `threads` workers serves the connections; a body over `max_body` bytes is 413; a
// client slower than the read or write timeout is dropped. Stop() closes the listening socket:
// requests in flight finish and are answered, then Run() returns.
//
// Ownership: a Server borrows the service (it must outlive the server). Thread-safety: Stop() may be
// called from any thread; Bind() and Run() from one.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <atomic>
#include <thread>

#include "base/status.h"
#include "cds/cds.h"

namespace nflux::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 8080;                 // 0: any free port (Bind() says which)
  int threads = 0;                 // workers; 0: 16, or twice the cores when more 
  size_t max_body = 1 << 20;       // bytes; a larger body is answered 413
  int read_timeout_seconds = 10;   // a client that sends nothing for this long is dropped
  int write_timeout_seconds = 10;
  int keep_alive_seconds = 2;      // an idle kept-alive connection is closed after this
};

// The worker threads a server with these options runs: at most this many requests at once.
int WorkerThreads(const ServerOptions& options);

// What answers a request: the CDS service, or a router in front of it and the web app.
using Handler = std::function<cds::HttpResponse(const cds::HttpRequest&)>;

class Server {
 public:
  Server(const cds::Service& service, ServerOptions options);
  Server(Handler handler, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket. Errors: IOError naming host and port.
  Result<int> Bind();
  // Serves until Stop(); in-flight requests are finished first. REQUIRES: Bind() succeeded.
  Status Run();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Blocks SIGTERM and SIGINT in the calling thread (and every thread it starts later), then waits for
// them on a thread of its own and stops `server` when one arrives. Construct it before Run() and
// before any other thread is started; the destructor ends the waiting thread.
class StopOnSignals {
 public:
  explicit StopOnSignals(Server& server);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
  bool signalled() const { return signalled_; }

 private:
  std::thread waiter_;
  std::atomic<bool> signalled_ = false;
  std::atomic<bool> ending_ = false;  // the destructor woke the waiter, no signal came
};

// The FHIR client a hook call uses when its prefetch is missing: GET over HTTP (or HTTPS) with the
// bearer token, JSON parsed strictly. Errors name the URL (never the token); a status other than 200
// is an error. Thread-safe (a connection per call).
class HttpFhirClient final : public cds::FhirClient {
 public:
  explicit HttpFhirClient(int timeout_seconds = 10) : timeout_seconds_(timeout_seconds) {}
  Result<nlohmann::json> Get(const std::string& url, const std::string& bearer) const override;

 private:
  int timeout_seconds_;
};

}  // namespace nflux::server
