// PostgreSQL for the store's backend tests: a throw-away server per test process
// (scripts/pg-cluster), a fresh database (or schema) per test on it, and a raw libpq connection
// that counts and tampers behind the store's back.
//
//   const std::string* cluster = PgCluster::Url();
//   ASSERT_NE(cluster, nullptr) << PgCluster::StartError();  // fails, never skips
//   std::string url = NewDatabaseUrl("StoreTest_SavesRuns");
//   ... open the store on url ...
//   PgRaw raw(url);
//   EXPECT_EQ(raw.Int("SELECT count(*) FROM runs"), 3);
//
// The server starts on the first Url() call (1.2 to 3 s, most of it initdb) and stops when the
// process exits (about 0.2 s); a watchdog stops it too when the process dies without exiting
// (killed, ^C). A fresh database takes 40 ms on tmpfs, several hundred on a busy ext4 disk; a
// fresh schema takes 3 to 5 ms.
// NFLUX_TEST_PG_URL=postgresql://USER@HOST:PORT/DB uses that server instead and starts nothing (its
// user needs the right to create databases).
#pragma once

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <system_error>

#ifndef NFLUX_SOURCE_DIR
#error "pg_cluster.h needs NFLUX_SOURCE_DIR, the repository's root (for scripts/pg-cluster)"
#endif

namespace nflux::store::testing {

class PgCluster {
 public:
  // postgresql://nflux@127.0.0.1:PORT/nflux (a superuser, trust authentication), or nullptr when the
  // server could not start: StartError() says why, and the test must fail with it.
  static const std::string* Url() {
    const State& state = Get();
    return state.url.empty() ? nullptr : &state.url;
  }
  static std::string StartError() { return Get().error; }

 private:
  struct State {
    std::string url;
    std::string error;
    std::string dir;  // the cluster's folder; empty when there is nothing to stop
    pid_t owner = 0;  // a forked child's exit must not stop its parent's server

    State() {
      if (const char* given = std::getenv("NFLUX_TEST_PG_URL"); given && *given) {
        url = given;
        return;
      }
      std::string pattern = (Parent() / "nflux_pg_XXXXXX").string();
      if (!mkdtemp(pattern.data())) {
        error = "could not make a folder for the PostgreSQL cluster from " + pattern;
        return;
      }
      owner = getpid();
      std::string output;
      int status = Run(Script() + " start " + Quote(pattern) + " " + std::to_string(owner), &output);
      if (status != 0) {
        // The message ends with the end of the server's log; the folder goes (it may be in memory).
        error = "scripts/pg-cluster start " + pattern + " failed (exit " + std::to_string(status) + "):\n" + output;
        std::string ignored;
        Run(Script() + " stop " + Quote(pattern), &ignored);
        return;
      }
      dir = pattern;
      std::ifstream in(dir + "/url");
      std::getline(in, url);
      if (url.empty()) error = "scripts/pg-cluster start wrote no " + dir + "/url:\n" + output;
    }
    ~State() {
      if (dir.empty() || getpid() != owner) return;
      std::string output;
      if (Run(Script() + " stop " + Quote(dir), &output) != 0)
        std::fprintf(stderr, "scripts/pg-cluster stop %s failed:\n%s", dir.c_str(), output.c_str());
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;
  };

  // A function-local static: started once, on the first call, even with several threads.
  static State& Get() {
    static State state;
    return state;
  }
  // Where the cluster's folder goes: /dev/shm when it is a roomy tmpfs (initdb and CREATE DATABASE
  // create hundreds of files each; on an ext4 /tmp, CREATE DATABASE took 10 times as long), else
  // the system's temporary folder.
  static std::filesystem::path Parent() {
    struct statvfs shm {};
    if (statvfs("/dev/shm", &shm) == 0 && static_cast<uint64_t>(shm.f_bavail) * shm.f_frsize >= (uint64_t{1} << 30) &&
        access("/dev/shm", W_OK | X_OK) == 0)
      return "/dev/shm";
    std::error_code no_tmpdir;
    std::filesystem::path tmp = std::filesystem::temp_directory_path(no_tmpdir);
    return no_tmpdir ? std::filesystem::path("/tmp") : tmp;
  }
  static std::string Script() {
    // Appended, not `std::string(...) + "..."`: GCC 12 -O1 warns wrongly (array-bounds) on that.
    std::string path = NFLUX_SOURCE_DIR;
    path += "/scripts/pg-cluster";
    return Quote(path);
  }
  static std::string Quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
  }
  // Runs COMMAND with stdout and stderr into *output; its exit status (-1 when it did not run).
  static int Run(const std::string& command, std::string* output) {
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe) return -1;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
    int status = pclose(pipe);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

// A raw libpq connection; every statement is EXPECTed to succeed. Server notices (DROP ... IF
// EXISTS when there is nothing to drop) are not printed.
class PgRaw {
 public:
  explicit PgRaw(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    ok_ = PQstatus(conn_) == CONNECTION_OK;
    EXPECT_TRUE(ok_) << url << ": " << PQerrorMessage(conn_);
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~PgRaw() { PQfinish(conn_); }
  PgRaw(const PgRaw&) = delete;
  PgRaw& operator=(const PgRaw&) = delete;
  PGconn* conn() const { return conn_; }
  // Connected, and every statement so far succeeded.
  bool ok() const { return ok_; }

  // SQL may hold several statements (one implicit transaction; not for CREATE DATABASE).
  void Exec(const std::string& sql) { Run(sql); }
  // The first column of the first row of the last statement's result, as text ("" when there
  // is none, or it is NULL).
  std::string Text(const std::string& sql) {
    Result result = Run(sql);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) == 0 || PQnfields(result.get()) == 0)
      return "";
    return std::string(PQgetvalue(result.get(), 0, 0), PQgetlength(result.get(), 0, 0));
  }
  // Text() as a number (0 when there is none).
  int64_t Int(const std::string& sql) {
    std::string text = Text(sql);
    int64_t value = 0;
    if (text.empty()) return 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    EXPECT_TRUE(error == std::errc() && end == text.data() + text.size()) << sql << " gave \"" << text << "\"";
    return value;
  }
  int64_t Count(const std::string& table) { return Int("SELECT count(*) FROM " + table); }

 private:
  using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;
  Result Run(const std::string& sql) {
    Result result(PQexec(conn_, sql.c_str()), &PQclear);
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) ok_ = false;
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << (result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn_));
    return result;
  }

  PGconn* conn_;
  bool ok_ = true;
};

// NAME as a database or schema name: lower case, [a-z0-9_] (anything else becomes _), at most 60
// characters (PostgreSQL's limit is 63).
inline std::string PgName(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (out.size() == 60) break;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out += (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
  }
  return out.empty() ? "db" : out;
}

// URL with its database (the path) replaced by DATABASE; the rest (user, host, port, ?query) kept.
inline std::string PgUrlWithDatabase(const std::string& url, const std::string& database) {
  size_t scheme = url.find("://");
  size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  size_t query = url.find('?', authority);
  size_t path = url.find('/', authority);
  if (path == std::string::npos || (query != std::string::npos && path > query))
    return url.substr(0, query) + "/" + database + (query == std::string::npos ? "" : url.substr(query));
  return url.substr(0, path + 1) + database + (query == std::string::npos ? "" : url.substr(query));
}

// The URL's database name ("" when it names none).
inline std::string PgUrlDatabase(const std::string& url) {
  size_t scheme = url.find("://");
  size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  size_t query = url.find('?', authority);
  size_t path = url.find('/', authority);
  if (path == std::string::npos || (query != std::string::npos && path > query)) return "";
  return url.substr(path + 1, query == std::string::npos ? std::string::npos : query - path - 1);
}

// A fresh, empty database PgName(NAME) on the cluster (dropped first when it exists, even with
// connections open): its URL, or "" after a test failure. Use the test's name: processes sharing
// one server through NFLUX_TEST_PG_URL must not share a database name.
inline std::string NewDatabaseUrl(const std::string& name) {
  const std::string* cluster = PgCluster::Url();
  if (!cluster) {
    ADD_FAILURE() << "no PostgreSQL server: " << PgCluster::StartError();
    return "";
  }
  const std::string database = PgName(name);
  if (database == PgUrlDatabase(*cluster) || database == "postgres" || database == "template0" ||
      database == "template1") {
    ADD_FAILURE() << "NewDatabaseUrl(\"" << name << "\") would drop the server's own database " << database;
    return "";
  }
  PgRaw admin(*cluster);
  admin.Exec("DROP DATABASE IF EXISTS \"" + database + "\" WITH (FORCE)");
  admin.Exec("CREATE DATABASE \"" + database + "\" TEMPLATE template0");
  return admin.ok() ? PgUrlWithDatabase(*cluster, database) : "";
}

// A fresh, empty schema PgName(NAME) in the cluster's own database (dropped first when it exists):
// a URL whose connections have search_path set to it (libpq's options=-csearch_path=NAME), or ""
// after a test failure. A few milliseconds, against tens to hundreds for NewDatabaseUrl.
inline std::string NewSchemaUrl(const std::string& name) {
  const std::string* cluster = PgCluster::Url();
  if (!cluster) {
    ADD_FAILURE() << "no PostgreSQL server: " << PgCluster::StartError();
    return "";
  }
  const std::string schema = PgName(name);
  if (schema == "public" || schema.rfind("pg_", 0) == 0 || schema == "information_schema") {
    ADD_FAILURE() << "NewSchemaUrl(\"" << name << "\") would drop the system's schema " << schema;
    return "";
  }
  PgRaw admin(*cluster);
  admin.Exec("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE; CREATE SCHEMA \"" + schema + "\"");
  if (!admin.ok()) return "";
  return *cluster + (cluster->find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema;
}

}  // namespace nflux::store::testing
