// Shared by the Asio tests: a bank engine in a temp directory that remembers its writer
// thread, and io_context threads whose ids are known.
#pragma once

#include <utility>  // before Asio (TOOLCHAIN.md §6.7)

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"

namespace rill::testing {

using BankEngine = engine::Engine<examples::bank::BankDomain>;

// The writer thread's id, learned from EngineOptions::on_batch (which runs on it).
struct WriterThread {
  std::mutex mu;
  std::thread::id id;
  std::thread::id get() {
    std::lock_guard<std::mutex> lock(mu);
    return id;
  }
};

inline std::unique_ptr<BankEngine> OpenBankEngine(const std::string& dir, WriterThread* writer = nullptr,
                                                  std::size_t ring_size = 64) {
  engine::EngineOptions o;
  o.journal.directory = dir;
  o.journal.segment_size = 1u << 20;
  o.ring_size = ring_size;
  o.processor.expected_aggregates = 1024;
  o.processor.idempotency_window = 1u << 12;
  o.log_to_stderr = false;
  if (writer != nullptr) {
    o.on_batch = [writer](const engine::BatchTiming&) {
      std::lock_guard<std::mutex> lock(writer->mu);
      writer->id = std::this_thread::get_id();
    };
  }
  auto e = BankEngine::Open(o);
  INFO((e.ok() ? std::string("ok") : e.status().ToString()));
  REQUIRE(e.ok());
  return std::move(e).value();
}

// Runs io on `n` threads until it runs out of work; ids() are those threads.
class IoThreads {
 public:
  IoThreads(boost::asio::io_context& io, int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([&io] { io.run(); });
    for (const std::thread& t : threads_) ids_.push_back(t.get_id());
  }
  ~IoThreads() { Join(); }
  void Join() {
    for (std::thread& t : threads_)
      if (t.joinable()) t.join();
  }
  bool Contains(std::thread::id id) const {
    for (const std::thread::id& i : ids_)
      if (i == id) return true;
    return false;
  }

 private:
  std::vector<std::thread> threads_;
  std::vector<std::thread::id> ids_;
};

}  // namespace rill::testing
