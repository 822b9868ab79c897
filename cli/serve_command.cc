// nflux serve [--host 127.0.0.1] [--port 8080] [--threads N] [--max-body BYTES] [--auth CONFIG] [--no-store]:
// the CDS Hooks service (engine/cds over engine/server) on the pipeline opened once.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>

#include "auth/auth.h"
#include "cds/cds.h"
#include "cli/context.h"
#include "release/release.h"
#include "server/server.h"
#include "webapp/webapp.h"

namespace nflux::cli {
namespace {

struct ServeArgs {
  server::ServerOptions server;
  bool no_store = false;
  bool secure_cookies = false;
  std::string auth_path;
  bool from_release = false;
  int release_poll_ms = 1000;
  std::string session_key_file;
};

// The key replicas sign session cookies with: at least 32 bytes, readable by its owner only.
Result<std::string> ReadSessionKey(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) return Status::NotFound(path + ": no such session key file");
  if ((info.st_mode & 077) != 0)
    return Status::InvalidArgument(path + ": the session key is readable by others; chmod 600 it");
  auto key = ReadInput(path);
  if (!key.ok()) return key.status();
  if (key->size() < 32)
    return Status::InvalidArgument(path + ": a session key needs at least 32 bytes (head -c 32 /dev/urandom > " + path + ")");
  return key;
}

// The pipeline every request takes: the folders' (or a build's), opened once; or, with
// --from-release, the store's active release, followed by a thread that swaps in the next one.
struct Pipelines {
  std::shared_ptr<const pipeline::PipelineHandle> handle;
  std::unique_ptr<release::Follower> follower;
};

std::optional<Pipelines> OpenPipelines(Context& context, const ServeArgs& args) {
  Pipelines out;
  if (!args.from_release) {
    pipeline::Pipeline* pipeline = OpenPipelineOrReport(context);
    if (!pipeline) return std::nullopt;
    out.handle = pipeline::PipelineHandle::Fixed(*pipeline);
    return out;
  }
  auto follower = release::Follower::Start({.location = ResolveDbPath(context.options),
                                            .interval = std::chrono::milliseconds(args.release_poll_ms),
                                            .snapshot_dir = PipelineOptions(context.options).snapshot_dir,
                                            .log = [](const std::string& line) { std::cerr << line << std::endl; }});
  if (!follower.ok()) {
    context.exit_code = Fail(follower.status());
    return std::nullopt;
  }
  out.follower = std::move(follower).value();
  out.handle = out.follower->handle();
  std::cerr << "serving " << store::ReleaseName(out.follower->current_release()) << " of "
            << store::RedactPassword(ResolveDbPath(context.options)) << "; checking for another every "
            << args.release_poll_ms << " ms" << std::endl;
  return out;
}

int RunServe(Context& context, const ServeArgs& args) {
  auto pipelines = OpenPipelines(context, args);
  if (!pipelines) return context.exit_code;
  // One pool of store connections for the service and the web app: a connection per worker thread
  // at most (a request leases one for its length), opened as requests need them.
  std::unique_ptr<store::StorePool> stores;
  if (!args.no_store) {
    stores = std::make_unique<store::StorePool>(ResolveDbPath(context.options), store::Mode::kReadWrite,
                                                static_cast<size_t>(server::WorkerThreads(args.server)));
    // The first connection opens (and migrates) the database now, so that a bad one stops here.
    if (auto first = stores->Acquire(); !first.ok()) return Fail(first.status());
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
  cds::Service service(pipelines->handle, stores.get(), options);
  std::optional<webapp::App> app;
  if (stores) {
    webapp::AppOptions app_options{.secure_cookies = args.secure_cookies};
    std::string key_file = args.session_key_file;
    if (const char* env = std::getenv("NFLUX_SESSION_KEY_FILE"); key_file.empty() && env) key_file = env;
    if (!key_file.empty()) {
      auto key = ReadSessionKey(key_file);
      if (!key.ok()) return Fail(key.status());
      app_options.session_key = std::move(key).value();
    }
    app.emplace(pipelines->handle, *stores, std::move(app_options));
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
            << (stores ? "runs in " + store::RedactPassword(stores->location()) : std::string("nothing: --no-store"))
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
  command->add_option("--session-key-file", args->session_key_file,
                      "Sign session cookies with this key (32+ bytes, chmod 600), the same file on every replica "
                      "(default: $NFLUX_SESSION_KEY_FILE; none: unsigned cookies, looked up in the store)");
  command->add_flag("--from-release", args->from_release,
                    "Serve the active release in --db (nflux release publish) and switch to the next one when it is activated");
  command->add_option("--release-poll", args->release_poll_ms,
                      "With --from-release: milliseconds between checks for another active release (default: 1000)")
      ->check(CLI::Range(50, 600000));
  command->callback([&context, args] { context.exit_code = RunServe(context, *args); });
}

}  // namespace nflux::cli
