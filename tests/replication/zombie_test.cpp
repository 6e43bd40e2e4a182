// The SIGSTOP zombie (SCALE-OUT.md 3e.3): the old writer is a separate process (zombie_writer)
// publishing kReplicated deposits; it is paused whole with SIGSTOP, a standby in this process
// takes over (its fence stored first) and writes, then the zombie is resumed. Expected: the
// stream holds exactly one successor per sequence (continuous positions, each once), nothing of
// the zombie's epoch after the fence, the zombie stopped at its first publish or lease renewal
// (its node leaves the writer role within one publish window, its pending commands fail, none
// is acknowledged after the fence), and every kReplicated ack of either writer on the stream at its
// position with its epoch.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bank_node.h"
#include "rill/replication/message_format.h"
#include "rill/replication/nats_client.h"
#include "rill/tests/replication/cluster_fixture.h"
#include "rill/tests/support/temp_dir.h"
#include "stream_epochs.h"

#ifndef RILL_ZOMBIE_WRITER
#error "RILL_ZOMBIE_WRITER: the path of the zombie_writer executable (tests/replication/CMakeLists.txt)"
#endif

namespace {

using namespace rill;
using namespace rill::examples::bank;
using engine::AckLevel;
using replication::Node;
using replication::NodeRole;
using replication::test::EpochAt;
using replication::test::ReadStreamMessages;
using replication::test::StreamMsg;

constexpr std::int64_t kSecond = 1'000'000'000;

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The writer process: its stdout read line by line on a thread, each line with its arrival time.
class Child {
 public:
  struct Line {
    std::int64_t at = 0;
    std::string text;
  };

  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
    if (fd_ >= 0) ::close(fd_);
  }

  Status Start(std::vector<std::string> args) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return Status::FromErrno("pipe", errno);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test
      if (::getppid() != parent) ::_exit(127);
      ::dup2(p[1], STDOUT_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    const int e = errno;
    ::close(p[1]);
    if (pid < 0) {
      ::close(p[0]);
      return Status::FromErrno("fork", e);
    }
    pid_ = pid;
    fd_ = p[0];
    reader_ = std::thread([this] { Read(); });
    return Status::OK();
  }

  pid_t pid() const { return pid_; }
  std::vector<Line> lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }
  // The first line starting with `prefix` (waits up to timeout_ns); "" if none came.
  Line WaitFor(const std::string& prefix, std::int64_t timeout_ns) {
    const std::int64_t until = Now() + timeout_ns;
    for (;;) {
      for (const Line& l : lines())
        if (l.text.rfind(prefix, 0) == 0) return l;
      if (Now() > until || eof_.load()) {
        for (const Line& l : lines())
          if (l.text.rfind(prefix, 0) == 0) return l;
        return {};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::size_t Count(const std::string& prefix) {
    std::size_t n = 0;
    for (const Line& l : lines()) n += l.text.rfind(prefix, 0) == 0 ? 1 : 0;
    return n;
  }
  // Waits for the exit (bounded); SIGKILL after that. The exit status, or -1 when killed.
  int Wait(std::int64_t timeout_ns) {
    const std::int64_t until = Now() + timeout_ns;
    int status = 0;
    while (Now() < until) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    return -1;
  }

 private:
  void Read() {
    std::string partial;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;  // EOF: the child exited
      partial.append(buf, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = partial.find('\n')) != std::string::npos) {
        std::lock_guard<std::mutex> lock(mu_);
        lines_.push_back({Now(), partial.substr(0, nl)});
        partial.erase(0, nl + 1);
      }
    }
    eof_.store(true);
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  std::mutex mu_;
  std::vector<Line> lines_;
  std::atomic<bool> eof_{false};
};

}  // namespace

TEST_CASE("Zombie writer process: SIGSTOP through a takeover, SIGCONT: fenced at its first publish",
          "[replication][cluster][zombie]") {
  RILL_START_CLUSTER_OR_SKIP(cluster, 3);
  const std::string urls = cluster.urls();
  rill::test::TempDir tmp("rill-zombie-proc");

  // A: the writer, in its own process, publishing continuously.
  Child a;
  REQUIRE(a.Start({RILL_ZOMBIE_WRITER, tmp.Sub("a"), urls, "a"}).ok());
  const Child::Line writer = a.WaitFor("writer ", 40 * kSecond);
  INFO("zombie_writer output: " << a.lines().size()
                                << " lines; first: " << (a.lines().empty() ? std::string() : a.lines().front().text));
  REQUIRE(!writer.text.empty());
  const std::uint64_t epoch_a = std::stoull(writer.text.substr(7));

  // B: the standby, in this process.
  replication::test::Writer wb;
  auto bn = Node::Start(replication::test::BankNodeOptions(tmp.Sub("b"), urls, "b", wb));
  REQUIRE(bn.ok());
  std::unique_ptr<Node> b = std::move(bn).value();
  REQUIRE(b->WaitRole(NodeRole::kStandby, 40 * kSecond).ok());
  const std::int64_t load_until = Now() + kSecond;
  while (a.Count("ack ") < 500 && Now() < load_until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(a.Count("ack ") > 16);

  // Pause A whole: its lease lapses, B takes over and writes.
  REQUIRE(::kill(a.pid(), SIGSTOP) == 0);
  const std::int64_t stopped = Now();
  {
    const Status s = b->WaitRole(NodeRole::kWriter, 40 * kSecond);
    INFO(s.ToString() << " / " << b->state());
    REQUIRE(s.ok());
  }
  const std::int64_t b_writer = Now();
  std::vector<std::uint64_t> b_acked;
  std::uint64_t id = 1'000'000;
  auto b_deposits = [&](int n) {
    for (int i = 0; i < n; ++i) {
      std::shared_ptr<replication::test::BankNodeEngine> e = wb.get();
      REQUIRE(e);
      const engine::CommandOutcome o = e->execute(Deposit{2, 1}, {.command_id = id++}, AckLevel::kReplicated);
      INFO(engine::RejectCodeName(o.rejection().code) << " " << o.rejection().message());
      REQUIRE(o.accepted());
      b_acked.push_back(o.position());
    }
  };
  b_deposits(50);

  // Resume A: its pending and new publishes expect a message that is no longer the last.
  const std::size_t a_lines_before = a.lines().size();
  REQUIRE(::kill(a.pid(), SIGCONT) == 0);
  const std::int64_t resumed = Now();
  const Child::Line left = a.WaitFor("left ", 20 * kSecond);
  INFO("A left the writer role: " << left.text);
  REQUIRE(!left.text.empty());
  // Resumed, the zombie learns it is no writer by whichever comes first: its replicator's next
  // publish refused (fenced), or its lease renewal refused (B holds the key). The lease path
  // wins when nothing was left to publish at SIGSTOP (measured: 2 runs in 6); the stream checks
  // below hold either way, and "Zombie publishing continuously" (standby_test) pins the fenced
  // path with the lease renewal paused.
  const bool fenced = left.text.find("fenced") != std::string::npos;
  CHECK((fenced || left.text.find("the lease was lost") != std::string::npos));
  const double left_after_s = (left.at - resumed) / 1e9;
  CHECK(a.Wait(20 * kSecond) == 0);
  b_deposits(20);

  const std::vector<StreamMsg> s = ReadStreamMessages(urls);
  REQUIRE(!s.empty());
  const std::uint64_t epoch_b = b->epoch();
  CHECK(epoch_b > epoch_a);
  // Exactly one fence, B's, and only B's epoch after it.
  std::size_t fence_at = s.size();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!s[i].fence) continue;
    CHECK(s[i].epoch == epoch_b);
    CHECK(fence_at == s.size());
    fence_at = i;
  }
  REQUIRE(fence_at < s.size());
  for (std::size_t i = fence_at + 1; i < s.size(); ++i) CHECK(s[i].epoch == epoch_b);
  const std::uint64_t fence_position = s[fence_at].first;
  CHECK(s.back().end == wb.get()->committed_position() + 1);

  // Every ack of A is on the stream with A's epoch, before the fence; every ack of B with B's.
  std::size_t a_acks = 0, a_fails_after = 0, a_acks_after = 0;
  const std::vector<Child::Line> lines = a.lines();
  std::set<std::uint64_t> positions;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Child::Line& l = lines[i];
    if (l.text.rfind("ack ", 0) == 0) {
      const std::uint64_t p = std::stoull(l.text.substr(4));
      INFO("A acked position " << p);
      CHECK(EpochAt(s, p) == epoch_a);
      CHECK(p < fence_position);
      CHECK(positions.insert(p).second);
      ++a_acks;
      if (i >= a_lines_before) ++a_acks_after;
    } else if (l.text.rfind("fail ", 0) == 0 && i >= a_lines_before) {
      ++a_fails_after;
    }
  }
  for (const std::uint64_t p : b_acked) {
    INFO("B acked position " << p);
    CHECK(EpochAt(s, p) == epoch_b);
    CHECK(p >= fence_position);
  }
  CHECK(a_fails_after > 0);  // its pending kReplicated deposits failed
  const auto takeovers = b->takeovers();
  REQUIRE(takeovers.size() == 1);                                   // no lost race, no second takeover
  for (const auto& r : b->reconciles()) CHECK(r.first_moved == 0);  // B moved nothing of its own aside
  std::printf(
      "zombie_test: A (epoch %llu) %zu acks; SIGSTOP -> B writer %.3f s (fence after position %llu, %u fence "
      "publish(es)); SIGCONT -> A left the writer role %.3f s later, %s (%zu acks that were already in its "
      "pipe, %zu failed commands after); %zu stream messages\n",
      static_cast<unsigned long long>(epoch_a), a_acks, (b_writer - stopped) / 1e9,
      static_cast<unsigned long long>(fence_position - 1), takeovers.back().fence_attempts, left_after_s,
      fenced ? "its replicator fenced" : "its lease lost first", a_acks_after, a_fails_after, s.size());
  CHECK(left_after_s < 5.0);  // one publish window: the ack of its first publish after SIGCONT
  b->Stop();
}
