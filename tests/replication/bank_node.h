// rill/tests/replication/bank_node.h: a bank engine under a replication::Node, for the takeover
// tests (standby_test.cpp, zombie_test.cpp) and the zombie writer process
// (zombie_writer_main.cpp): the caller's Writer owns the engines the node opens and closes.
// Short lease (1 s) and poll (50 ms) so a takeover takes about a second.
//
//   Writer w;
//   auto node = rill::replication::Node::Start(BankNodeOptions(dir, urls, "a", w));
//   w.get()->execute(Deposit{1, 5}, {.command_id = 7}, AckLevel::kReplicated);
//
// Thread safety: Writer's members under its mutex; engines are kept (stopped) after close so a
// load thread holding one never sees it freed.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "rill/engine/engine.h"
#include "rill/engine/hot_standby.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/replication/standby.h"

namespace rill::replication::test {

using BankNodeEngine = engine::Engine<examples::bank::BankDomain>;

struct Writer {
  std::mutex mu;
  std::shared_ptr<BankNodeEngine> current;
  std::vector<std::shared_ptr<BankNodeEngine>> all;
  // With BankNodeOptions(..., hot = true): the standby's state while following (on_standby),
  // taken by open_writer.
  std::unique_ptr<engine::HotStandby<examples::bank::BankDomain>> hot;
  std::shared_ptr<BankNodeEngine> get() {
    std::lock_guard<std::mutex> lock(mu);
    return current;
  }
};

inline engine::EngineOptions BankNodeEngineOptions(const std::string& dir) {
  engine::EngineOptions eo;
  eo.journal.directory = dir;
  eo.journal.segment_size = 1u << 20;
  eo.ring_size = 1024;
  eo.processor.expected_aggregates = 1024;
  eo.processor.idempotency_window = 1u << 16;
  eo.log_to_stderr = false;
  eo.replication_stop_wait_ns = 500'000'000;
  return eo;
}

// hot: keep the aggregates while following (engine/hot_standby.h), so a takeover replays only
// what the standby had not applied yet.
inline NodeOptions BankNodeOptions(const std::string& dir, const std::string& urls, const std::string& holder,
                                   Writer& w, int replicas = 3, bool hot = false) {
  NodeOptions o;
  o.directory = dir;
  o.nats_urls = urls;
  o.app = "bank";
  o.shard = "0";
  o.holder = holder;
  o.lease_ttl_ns = 1'000'000'000;
  o.poll_interval_ns = 50'000'000;
  o.catch_up_timeout_ns = 20'000'000'000;
  o.replicas = replicas;
  o.replicator.ack_timeout_ns = 1'000'000'000;
  o.follower.segment_size = 1u << 20;
  if (hot) {
    o.on_standby = [&w](const std::string& d) {
      auto h = engine::HotStandby<examples::bank::BankDomain>::Start(BankNodeEngineOptions(d));
      std::lock_guard<std::mutex> lock(w.mu);
      w.hot = h.ok() ? std::move(h).value() : nullptr;  // a failed start: the takeover replays all
    };
  }
  o.open_writer = [&w](const std::string& d, engine::ReplicationProgress* rep) -> Status {
    engine::EngineOptions eo = BankNodeEngineOptions(d);
    eo.replication = rep;
    std::unique_ptr<engine::HotStandby<examples::bank::BankDomain>> hot_state;
    {
      std::lock_guard<std::mutex> lock(w.mu);
      hot_state = std::move(w.hot);
    }
    auto e = hot_state ? BankNodeEngine::Open(eo, std::move(hot_state)) : BankNodeEngine::Open(eo);
    if (!e.ok()) return e.status();
    std::lock_guard<std::mutex> lock(w.mu);
    w.current = std::shared_ptr<BankNodeEngine>(std::move(e).value());
    w.all.push_back(w.current);
    return Status::OK();
  };
  o.close_writer = [&w] {
    std::shared_ptr<BankNodeEngine> e;
    {
      std::lock_guard<std::mutex> lock(w.mu);
      e = std::move(w.current);
    }
    if (e) e->Stop();
  };
  return o;
}

}  // namespace rill::replication::test
