// nflux serve [--host 127.0.0.1] [--port 8080] [--threads N] [--max-body BYTES] [--auth CONFIG] [--no-store]:
// the CDS Hooks service (engine/cds over engine/server) on the pipeline opened once.
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>

#include "auth/auth.h"
#include "cds/cds.h"
#include "cli/context.h"
#include "server/server.h"
#include "webapp/webapp.h"

namespace nflux::cli {
namespace {

struct ServeArgs {
  server::ServerOptions server;
  bool no_store = false;
  bool secure_cookies = false;
  std::string auth_path;
};

int RunServe(Context& context, const ServeArgs& args) {
  auto pipeline = OpenPipelineOrReport(context);
  if (!pipeline) return context.exit_code;
  std::unique_ptr<store::Store> store;
  if (!args.no_store) {
    store = OpenStoreOrReport(context, store::Mode::kReadWrite);
    if (!store) return context.exit_code;
  }
  server::HttpFhirClient fhir_client;
  cds::ServiceOptions options;
  options.actor = "nflux serve (" + CurrentActor() + ")";
  options.fhir_client = &fhir_client;
  std::optional<auth::Authenticator> authenticator;
  if (!args.auth_path.empty()) {
    auto config = auth::LoadAuthConfig(args.auth_path);
    if (!config.ok()) return Fail(config.status());
    authenticator.emplace(std::move(config).value());
    options.authorize = [&authenticator](std::string_view authorization, std::string_view path) {
      auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
      auto claims = authenticator->Verify(authorization, now.count(), path);
      return claims.ok() ? Status::Ok() : claims.status();
    };
  }
  cds::Service service(*pipeline, store.get(), options);
  // The web app has its own connection to the store (a Store is one connection; SQLite lets two
  // writers take turns), so that pages never wait on the hook service's group commits.
  std::unique_ptr<store::Store> app_store;
  std::optional<webapp::App> app;
  if (store) {
    app_store = OpenStoreOrReport(context, store::Mode::kReadWrite);
    if (!app_store) return context.exit_code;
    app.emplace(*pipeline, *app_store, webapp::AppOptions{.secure_cookies = args.secure_cookies});
  }
  server::Server http(
      [&service, &app](const cds::HttpRequest& request) {
        return webapp::Dispatch(app ? &*app : nullptr, service, request);
      },
      args.server);
  server::StopOnSignals stop(http);  // before any worker thread starts, so that all block the signals
  auto port = http.Bind();
  if (!port.ok()) return Fail(port.status());
  if (app) std::cerr << "web app: http://" << args.server.host << ":" << *port << "/app/" << std::endl;
  std::cerr << "listening on http://" << args.server.host << ":" << *port << " (storing "
            << (store ? "runs in " + store->Describe() : std::string("nothing: --no-store"))
            << (authenticator ? "; JWT bearer tokens required" : "") << ")" << std::endl;
  if (Status served = http.Run(); !served.ok()) return Fail(served);
  std::cerr << "stopped" << (stop.signalled() ? " on a signal" : "") << "; every request answered" << std::endl;
  return kExitOk;
}

}  // namespace

std::optional<int> ExecServe(char**) { return std::nullopt; }

void SetupServeCommand(CLI::App* command, Context& context) {
  auto args = std::make_shared<ServeArgs>();
  command->add_option("--host", args->server.host, "Address to listen on (default: 127.0.0.1, this machine only)");
  command->add_option("--port", args->server.port, "Port (default: 8080; 0: any free port, printed on stderr)")
      ->check(CLI::Range(0, 65535));
  command->add_option("--threads", args->server.threads, "Worker threads (default: 16, or twice the cores when more; a keep-alive connection holds one)")
      ->check(CLI::Range(1, 256));
  command->add_option("--max-body", args->server.max_body, "Largest request body in bytes (default: 1048576); larger: 413")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  command->add_option("--read-timeout", args->server.read_timeout_seconds, "Seconds a slow client may take (default: 10)")
      ->check(CLI::Range(1, 3600));
  command->add_option("--auth", args->auth_path,
                      "Require the CDS Hooks JWT bearer token, checked against this JSON config (docs/security.md)");
  command->add_flag("--no-store", args->no_store,
                    "Store no hook runs or feedback (default: store them in --db); the web app needs the store and is off");
  command->add_flag("--secure-cookies", args->secure_cookies,
                    "Mark the web app's cookies Secure (set this when a TLS proxy serves it over HTTPS)");
  AddKnowledgeSourceOptions(command, context.options);
  command->callback([&context, args] { context.exit_code = RunServe(context, *args); });
}

}  // namespace nflux::cli
