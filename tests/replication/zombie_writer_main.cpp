// zombie_writer: the old writer of the SIGSTOP zombie test (zombie_test.cpp, SCALE-OUT 3e.3),
// in its own process so the test can pause it whole (SIGSTOP) through a takeover and resume it.
//
//   zombie_writer DIR URLS HOLDER
//
// Becomes the writer of bank/0 (a Node with a 1 s lease), opens 16 accounts, then keeps 16
// kReplicated deposits in flight. One line per event on stdout (flushed):
//   writer <epoch>            the node writes
//   ack <position>            a kReplicated deposit acknowledged at that position
//   fail <reject code>        a deposit not acknowledged (the engine closed, replication unavailable)
//   left <why>                the node left the writer role (why: the TakeoverReport's `ended`)
// then it stops the node and exits 0. Errors: a line "error <text>" and exit 1.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bank_node.h"

using namespace rill;
using namespace rill::examples::bank;
using rill::replication::NodeRole;

namespace {

void Line(const std::string& s) {
  std::fputs(s.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

int Fail(const std::string& what) {
  Line("error " + what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return Fail("usage: zombie_writer DIR URLS HOLDER");
  replication::test::Writer w;
  auto node = replication::Node::Start(replication::test::BankNodeOptions(argv[1], argv[2], argv[3], w));
  if (!node.ok()) return Fail(node.status().ToString());
  if (Status s = (*node)->WaitRole(NodeRole::kWriter, 40'000'000'000); !s.ok()) return Fail(s.ToString());
  Line("writer " + std::to_string((*node)->epoch()));
  std::shared_ptr<replication::test::BankNodeEngine> e = w.get();
  if (!e) return Fail("no engine");
  std::uint64_t id = 1;
  for (std::uint64_t a = 1; a <= 16; ++a) {
    const engine::CommandOutcome o =
        e->execute(OpenAccount{a, a, 978}, {.command_id = id++}, engine::AckLevel::kReplicated);
    if (!o.accepted()) return Fail(std::string("open account: ") + engine::RejectCodeName(o.rejection().code));
    Line("ack " + std::to_string(o.position()));
  }
  constexpr int kInFlight = 16;
  std::vector<engine::Completion> done(kInFlight);
  std::vector<bool> sent(kInFlight);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(90);  // bounded
  std::string left;
  while (left.empty() && std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < kInFlight; ++i) {
      const engine::ClaimStatus c =
          e->submit(Deposit{1 + id % 16, 1}, {.command_id = id}, engine::AckLevel::kReplicated, done[i]);
      ++id;
      sent[i] = c == engine::ClaimStatus::kOk;
      if (!sent[i]) Line("fail claim");
    }
    for (int i = 0; i < kInFlight; ++i) {
      if (!sent[i]) continue;
      const engine::CommandOutcome& o = done[i].Wait();
      if (o.accepted()) {
        Line("ack " + std::to_string(o.position()));
      } else {
        Line(std::string("fail ") + engine::RejectCodeName(o.rejection().code));
      }
    }
    const auto t = (*node)->takeovers();
    if (!t.empty() && !t.back().ended.empty()) left = t.back().ended;
    if (!left.empty() || !sent[0]) break;
  }
  // The engine refused (closed by the node): wait for the node to say why, bounded.
  for (int i = 0; i < 200 && left.empty(); ++i) {
    const auto t = (*node)->takeovers();
    if (!t.empty() && !t.back().ended.empty()) left = t.back().ended;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Line("left " + (left.empty() ? std::string("(unknown: still writing after 90 s?)") : left));
  (*node)->Stop();
  return 0;
}
