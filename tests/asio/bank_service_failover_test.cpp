// rill-bank-service as writer and warm standby (--nats, examples/bank_service/service_node.h)
// against a real 3-node NATS JetStream cluster: two service processes (their own journal
// directories and ports), the writer loaded with kReplicated deposits through the bank client,
// then killed -9. Expected: before the kill the standby refused every request with
// Error{NotWriter} naming its role and the writer; after it, the standby accepts a command within
// 5 s beyond the lease TTL (the goal; printed), and every deposit acknowledged at
// `replicated` is in its balances (at most the deposits whose reply never came besides).
#include <utility>  // before Asio (TOOLCHAIN.md §6.7)

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "rill/examples/bank_service/client.h"
#include "rill/tests/replication/nats_cluster.h"
#include "rill/tests/support/temp_dir.h"

#ifndef RILL_BANK_SERVICE_BIN
#error "RILL_BANK_SERVICE_BIN: the path of rill-bank-service (tests/asio/CMakeLists.txt)"
#endif

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace rill::examples::bank_service;
using rill::test::NatsCluster;

constexpr std::int64_t kLeaseTtlMs = 2000;
constexpr std::uint64_t kAccounts = 16;
constexpr std::uint64_t kProbeAccount = 1000;  // the takeover probe's deposits go here, not into the checked sums

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A rill-bank-service process: stdout read line by line on a thread, stderr to a file. It gets
// SIGKILL if the test dies (PR_SET_PDEATHSIG; started from the test's main thread).
class Service {
 public:
  ~Service() {
    Kill();
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) ::close(fd_);
  }

  void Start(std::vector<std::string> args, const std::string& stderr_path) {
    stderr_path_ = stderr_path;
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test
      if (::getppid() != parent) ::_exit(127);
      ::dup2(p[1], STDOUT_FILENO);
      const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(p[1]);
    REQUIRE(pid > 0);
    pid_ = pid;
    fd_ = p[0];
    reader_ = std::thread([this] {
      std::string line;
      char buf[512];
      for (;;) {
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) break;
        for (ssize_t i = 0; i < n; ++i) {
          if (buf[i] != '\n') {
            line += buf[i];
            continue;
          }
          std::lock_guard<std::mutex> lock(mu_);
          lines_.push_back(std::move(line));
          line.clear();
        }
      }
    });
  }

  // The port from "rill-bank-service listening on 127.0.0.1:PORT (...)"; 0 if it never came.
  std::uint16_t WaitForPort(std::int64_t timeout_ms) {
    const std::string prefix = "rill-bank-service listening on 127.0.0.1:";
    for (const std::int64_t until = NowMs() + timeout_ms; NowMs() < until;) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        for (const std::string& l : lines_)
          if (l.rfind(prefix, 0) == 0) return static_cast<std::uint16_t>(std::stoul(l.substr(prefix.size())));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }

  void Kill() {  // SIGKILL and reap, by pid
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // SIGTERM, then the exit status within timeout_ms (SIGKILL and -1 after it).
  int Terminate(std::int64_t timeout_ms) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    for (const std::int64_t until = NowMs() + timeout_ms; NowMs() < until;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Kill();
    return -1;
  }

  std::string Stderr() const {
    std::ifstream in(stderr_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::vector<std::string> lines_;
  std::string stderr_path_;
};

// One blocking connection to a service.
struct Conn {
  Conn(asio::io_context& io, std::uint16_t port) : socket(io) {
    boost::system::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    ok = !ec;
    if (ok) socket.set_option(tcp::no_delay(true), ec);
  }
  // nullptr: the connection failed (the process died).
  const wire::Reply* Send() {
    boost::system::error_code ec;
    const wire::Reply* r = Call(socket, fbb, reader, ec);
    if (ec) ok = false;
    return ec ? nullptr : r;
  }
  tcp::socket socket;
  flatbuffers::FlatBufferBuilder fbb;
  ReplyReader reader;
  bool ok = false;
};

std::string Describe(const wire::Reply* r) {
  if (r == nullptr) return "no reply";
  if (const auto* e = r->body_as_Error()) {
    std::string s = "Error{";
    s += wire::EnumNameErrorCode(e->code());
    s += "}: ";
    s += e->message() ? e->message()->str() : std::string();
    return s;
  }
  if (const auto* o = r->body_as_Outcome()) {
    std::string s = o->accepted() ? "accepted" : "rejected (code ";
    if (!o->accepted()) {
      s += std::to_string(o->reject_code());
      s += ": ";
      s += o->message() ? o->message()->str() : std::string();
      s += ")";
    }
    return s;
  }
  return "a balance";
}

// Deposits on one connection until it fails: what was acknowledged (per account) and what was
// sent without a reply (the kill's in-flight request: may or may not have been kept).
struct LoadResult {
  std::vector<std::int64_t> acked = std::vector<std::int64_t>(kAccounts + 1, 0);
  std::int64_t unknown = 0;
  std::uint64_t acked_count = 0, rejected = 0, max_position = 0;
  std::string first_rejection;
};

void Load(std::uint16_t port, std::uint64_t seed, int index, LoadResult& out) {
  asio::io_context io;
  Conn c(io, port);
  std::mt19937_64 rng(seed + static_cast<std::uint64_t>(index));
  for (std::uint64_t i = 1; c.ok; ++i) {
    const std::uint64_t account = 1 + rng() % kAccounts;
    const std::int64_t amount = 1 + static_cast<std::int64_t>(rng() % 100);
    // Explicitly replicated: the service's default floor (--min-ack) is not what is tested here.
    BuildDeposit(c.fbb,
                 {.request_id = i,
                  .command_id = (static_cast<std::uint64_t>(index + 1) << 40) | i,
                  .ack = wire::Ack::Replicated},
                 account, amount);
    const wire::Reply* r = c.Send();
    const wire::Outcome* o = r ? r->body_as_Outcome() : nullptr;
    if (o != nullptr && o->accepted()) {
      out.acked[account] += amount;
      ++out.acked_count;
      out.max_position = std::max(out.max_position, o->position());
    } else if (r == nullptr) {
      out.unknown += amount;  // killed with this one in flight
    } else {
      // A journaled-but-unconfirmed outcome (kReplicationUnavailable) may yet be kept.
      out.unknown += amount;
      if (out.rejected++ == 0) out.first_rejection = Describe(r);
    }
  }
}

}  // namespace

TEST_CASE(
    "the bank service as writer and standby: the standby refuses, takes over after kill -9 of the writer "
    "and keeps every replicated deposit",
    "[service][replication][failover]") {
  if (auto why = NatsCluster::Unavailable()) {
    WARN("skipped: " << *why);
    return;
  }
  // Bounded in time whatever happens: abort (the children and the NATS nodes die with us).
  std::atomic<bool> done{false};
  std::thread watchdog([&done] {
    for (int i = 0; i < 1800 && !done.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!done.load()) {
      std::fprintf(stderr, "bank_service_failover_test: over 180 s, aborting\n");
      std::abort();
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& t;
    ~Join() {
      done.store(true);
      t.join();
    }
  } join_watchdog{done, watchdog};

  auto cluster = NatsCluster::Start(3);
  INFO((cluster.ok() ? std::string("cluster up") : cluster.status().ToString()));
  REQUIRE(cluster.ok());
  rill::test::TempDir tmp("rill-service-failover");
  const std::string urls = (*cluster)->urls();
  auto args = [&](const std::string& name) {
    return std::vector<std::string>{RILL_BANK_SERVICE_BIN,
                                    "--data",
                                    tmp.path() + "/" + name,
                                    "--port",
                                    "0",
                                    "--nats",
                                    urls,
                                    "--app",
                                    "bank",
                                    "--shard",
                                    "0",
                                    "--holder",
                                    name,
                                    "--lease-ttl-ms",
                                    std::to_string(kLeaseTtlMs)};
  };
  const std::uint64_t seed = std::random_device{}();
  std::printf("bank_service_failover_test: seed %llu\n", static_cast<unsigned long long>(seed));

  Service a, b;
  // A failed REQUIRE unwinds through here: print what both services said on stderr.
  struct DumpOnFailure {
    Service& a;
    Service& b;
    ~DumpOnFailure() {
      if (std::uncaught_exceptions() > 0)
        std::printf("node-a stderr:\n%s\nnode-b stderr:\n%s\n", a.Stderr().c_str(), b.Stderr().c_str());
    }
  } dump{a, b};
  a.Start(args("node-a"), tmp.path() + "/node-a.stderr");
  const std::uint16_t port_a = a.WaitForPort(30'000);
  REQUIRE(port_a != 0);

  asio::io_context io;
  // node-a becomes the writer (the lease is free): open the accounts through it, at the
  // service's default ack (raised to replicated by --min-ack).
  {
    Conn c(io, port_a);
    REQUIRE(c.ok);
    std::string last;
    bool opened = false;
    for (const std::int64_t until = NowMs() + 40'000; !opened && NowMs() < until;) {
      BuildOpenAccount(c.fbb, {.request_id = 1, .command_id = 1}, 1, 1, 978);
      const wire::Reply* r = c.Send();
      REQUIRE(r != nullptr);
      last = Describe(r);
      opened = r->body_as_Outcome() != nullptr && r->body_as_Outcome()->accepted();
      if (!opened) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO("the last reply: " << last);
    REQUIRE(opened);
    for (std::uint64_t account = 2; account <= kAccounts + 1; ++account) {
      const std::uint64_t id = account <= kAccounts ? account : kProbeAccount;
      BuildOpenAccount(c.fbb, {.request_id = account, .command_id = id}, id, 1, 978);
      const wire::Reply* r = c.Send();
      INFO("open " << id << ": " << Describe(r));
      REQUIRE((r != nullptr && r->body_as_Outcome() != nullptr && r->body_as_Outcome()->accepted()));
    }
  }

  b.Start(args("node-b"), tmp.path() + "/node-b.stderr");
  const std::uint16_t port_b = b.WaitForPort(30'000);
  REQUIRE(port_b != 0);

  // node-b is a standby: every command is refused with NotWriter; once it has read the lease
  // the refusal names node-a.
  {
    Conn c(io, port_b);
    REQUIRE(c.ok);
    std::string last;
    bool named = false;
    for (const std::int64_t until = NowMs() + 30'000; !named && NowMs() < until;) {
      BuildDeposit(c.fbb, {.request_id = 1, .ack = wire::Ack::Replicated}, kProbeAccount, 1);
      const wire::Reply* r = c.Send();
      REQUIRE(r != nullptr);
      last = Describe(r);
      INFO("node-b answered a deposit before any takeover with: " << last);
      REQUIRE(r->body_as_Error() != nullptr);  // never an outcome: a standby must not write
      REQUIRE(r->body_as_Error()->code() == wire::ErrorCode::NotWriter);
      named = last.find("this node is a standby") != std::string::npos && last.find("node-a") != std::string::npos;
      if (!named) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    INFO("the last refusal: " << last);
    REQUIRE(named);
    std::printf("bank_service_failover_test: the standby refused: %s\n", last.c_str());
    BuildBalanceQuery(c.fbb, 2, 1);
    const wire::Reply* q = c.Send();
    REQUIRE(
        (q != nullptr && q->body_as_Error() != nullptr && q->body_as_Error()->code() == wire::ErrorCode::NotWriter));
  }

  // Load node-a with replicated deposits on two connections, then kill -9 it mid-load.
  std::vector<LoadResult> results(2);
  std::vector<std::thread> loaders;
  for (int i = 0; i < 2; ++i)
    loaders.emplace_back([&, i] { Load(port_a, seed, i, results[static_cast<std::size_t>(i)]); });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  a.Kill();
  const std::int64_t killed_ms = NowMs();
  for (std::thread& t : loaders) t.join();
  std::vector<std::int64_t> acked(kAccounts + 1, 0);
  std::int64_t unknown = 0;
  std::uint64_t acked_count = 0, max_position = 0;
  for (const LoadResult& r : results) {
    for (std::uint64_t k = 1; k <= kAccounts; ++k) acked[k] += r.acked[k];
    unknown += r.unknown;
    acked_count += r.acked_count;
    max_position = std::max(max_position, r.max_position);
    INFO("a rejected deposit: " << r.first_rejection);
    CHECK(r.rejected == 0);
  }
  std::printf(
      "bank_service_failover_test: %llu replicated deposits acknowledged by node-a before kill -9 "
      "(highest position %llu); %lld deposited by requests whose reply never came\n",
      static_cast<unsigned long long>(acked_count), static_cast<unsigned long long>(max_position),
      static_cast<long long>(unknown));
  REQUIRE(acked_count > 0);

  // The takeover: node-b refuses (NotWriter) until it writes; the first accepted command ends it.
  std::int64_t accepted_ms = 0;
  std::uint64_t refusals = 0;
  std::string last;
  {
    Conn c(io, port_b);
    REQUIRE(c.ok);
    for (std::uint64_t i = 1; accepted_ms == 0 && NowMs() < killed_ms + kLeaseTtlMs + 60'000; ++i) {
      BuildDeposit(c.fbb, {.request_id = i, .ack = wire::Ack::Replicated}, kProbeAccount, 1);
      const wire::Reply* r = c.Send();
      REQUIRE(r != nullptr);
      last = Describe(r);
      if (r->body_as_Outcome() != nullptr && r->body_as_Outcome()->accepted()) {
        accepted_ms = NowMs();
        break;
      }
      if (r->body_as_Error() != nullptr) ++refusals;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  INFO("the last reply from node-b: " << last);
  REQUIRE(accepted_ms != 0);
  const std::int64_t takeover_ms = accepted_ms - killed_ms;
  std::printf(
      "bank_service_failover_test: standby takeover: kill -9 of the writer -> first command accepted by "
      "the standby in %lld ms (lease TTL %lld ms: %lld ms beyond it; goal <= 5000), %llu refusals meanwhile\n",
      static_cast<long long>(takeover_ms), static_cast<long long>(kLeaseTtlMs),
      static_cast<long long>(takeover_ms - kLeaseTtlMs), static_cast<unsigned long long>(refusals));
  CHECK(takeover_ms - kLeaseTtlMs <= 5000);

  // Every replicated acknowledgement is in node-b's balances (read as of the highest one).
  {
    Conn c(io, port_b);
    REQUIRE(c.ok);
    std::int64_t total = 0, want = 0;
    for (std::uint64_t k = 1; k <= kAccounts; ++k) {
      BuildBalanceQuery(c.fbb, k, k, max_position);
      const wire::Reply* r = c.Send();
      REQUIRE(r != nullptr);
      INFO("account " << k << ": " << Describe(r));
      const wire::Balance* bal = r->body_as_Balance();
      REQUIRE(bal != nullptr);
      REQUIRE(bal->found());
      INFO("account " << k << " balance " << bal->balance() << ", replicated acks " << acked[k]);
      CHECK(bal->balance() >= acked[k]);
      total += bal->balance();
      want += acked[k];
    }
    std::printf("bank_service_failover_test: node-b holds %lld; acknowledged %lld (+ at most %lld unanswered)\n",
                static_cast<long long>(total), static_cast<long long>(want), static_cast<long long>(unknown));
    CHECK(total >= want);
    CHECK(total <= want + unknown);
  }

  const int exit_code = b.Terminate(20'000);
  CHECK(exit_code == 0);
  std::printf("bank_service_failover_test: node-b's roles:\n");
  std::istringstream roles(b.Stderr());
  for (std::string l; std::getline(roles, l);)
    if (l.find("role:") != std::string::npos) std::printf("  %s\n", l.c_str());
  // The takeover was hot: the engine took the standby's state (service_node.h).
  CHECK_THAT(b.Stderr(), Catch::Contains("the engine took the hot state at position"));
}
