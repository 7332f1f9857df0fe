#include "postgres_server.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "collector_process.h"

namespace zc::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin";

// Forks, drops to uid/gid, sends output to `log`, execs argv. The child's pid, or -1.
pid_t spawnAs(uid_t uid, gid_t gid, const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    ::close(fd);
  }
  if (setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

// Waits for `pid` up to `timeout`; its exit status, or -1 (still running or killed).
int waitPid(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -2;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

bool PostgresServer::installed() {
  return access((std::string(kBin) + "/initdb").c_str(), X_OK) == 0 &&
         access((std::string(kBin) + "/postgres").c_str(), X_OK) == 0;
}

bool PostgresServer::required() {
  const char* v = std::getenv("ZC_REQUIRE_POSTGRES");
  return v != nullptr && std::string(v) == "1";
}

PostgresServer::PostgresServer() {
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr) pw = getpwnam("nobody");
  if (pw != nullptr) {
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
  }
  dataDir_ = dir_.path() + "/data";
  // The server's user must reach its folder; the folder stays the test's to remove.
  (void)chown(dir_.path().c_str(), uid_, gid_);
  chmod(dir_.path().c_str(), 0700);
  port_ = freePort();
}

PostgresServer::~PostgresServer() { stop(); }

Status PostgresServer::start() {
  if (pid_ > 0) return Status::ok();
  if (uid_ == 0) return Status::failedPrecondition("no unprivileged user (postgres or nobody)");
  const std::string log = dir_.path() + "/postgres.log";
  if (!initialised_) {
    const std::string pwfile = dir_.path() + "/pwfile";
    {
      std::ofstream(pwfile) << kPassword << "\n";
    }
    (void)chown(pwfile.c_str(), uid_, gid_);
    pid_t init = spawnAs(uid_, gid_,
                         {std::string(kBin) + "/initdb", "-D", dataDir_, "-U", kUser,
                          "--pwfile=" + pwfile, "--auth=scram-sha-256", "-E", "UTF8",
                          "--locale=C.UTF-8", "--no-sync"},
                         log);
    int rc = init > 0 ? waitPid(init, std::chrono::seconds(120)) : -1;
    if (rc != 0) {
      if (init > 0 && rc == -2) ::kill(init, SIGKILL), waitPid(init, std::chrono::seconds(5));
      return Status::internal("initdb failed (" + std::to_string(rc) + "): " + readFile(log));
    }
    initialised_ = true;
  }
  pid_ = spawnAs(uid_, gid_,
                 {std::string(kBin) + "/postgres", "-D", dataDir_, "-p", std::to_string(port_), "-k",
                  dir_.path(), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                  "max_connections=50", "-c", "shared_buffers=32MB"},
                 log);
  if (pid_ <= 0) return Status::internal("fork failed");
  const std::string ping = "host=127.0.0.1 port=" + std::to_string(port_) +
                           " dbname=postgres user=" + kUser + " connect_timeout=2";
  bool up = waitFor([&] { return PQping(ping.c_str()) == PQPING_OK; }, std::chrono::seconds(20),
                    std::chrono::milliseconds(50));
  if (!up) {
    stop();
    return Status::internal("postgres did not come up: " + readFile(log));
  }
  return Status::ok();
}

void PostgresServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGINT);  // fast shutdown: ends sessions, checkpoints, exits
  if (waitPid(pid_, std::chrono::seconds(20)) == -2) {
    ::kill(pid_, SIGKILL);
    waitPid(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

std::string PostgresServer::url(const std::string& db) const {
  return "postgresql://" + std::string(kUser) + "@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PostgresServer::urlWithPassword(const std::string& password,
                                            const std::string& db) const {
  return "postgresql://" + std::string(kUser) + ":" + password + "@127.0.0.1:" +
         std::to_string(port_) + "/" + db;
}

Result<std::string> PostgresServer::createDatabase() {
  std::string name = "t" + std::to_string(++databases_);
  ZC_RETURN_IF_ERROR(query("CREATE DATABASE " + name).status());
  return name;
}

Result<std::vector<std::vector<std::string>>> PostgresServer::query(const std::string& sql,
                                                                   const std::string& db) const {
  PGconn* conn = PQconnectdb((urlWithPassword(kPassword, db) + "?connect_timeout=5").c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::unavailable(why);
  }
  PGresult* r = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
    std::string why = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
    return Status::internal(why);
  }
  std::vector<std::vector<std::string>> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r); ++j) {
      row.push_back(PQgetisnull(r, i, j) ? "<null>" : PQgetvalue(r, i, j));
    }
    rows.push_back(std::move(row));
  }
  PQclear(r);
  PQfinish(conn);
  return rows;
}

Result<std::string> PostgresServer::scalar(const std::string& sql, const std::string& db) const {
  ZC_ASSIGN_OR_RETURN(auto rows, query(sql, db));
  if (rows.size() != 1 || rows[0].size() != 1) {
    return Status::internal("expected one value from: " + sql);
  }
  return rows[0][0];
}

}  // namespace zc::testing
