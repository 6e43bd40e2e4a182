// rill::engine::async_submit (engine/asio.h) with each completion token flavour: the handler
// runs on its associated executor (never the writer thread, never inside the initiating call),
// the io_context keeps running while a command is in flight, and shutdown completes every
// handler (kShutdown) without leaks.
#include <utility>  // before Asio (TOOLCHAIN.md §6.7)

#include "rill/engine/asio.h"

#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "asio_test_util.h"
#include "rill/engine/applied_view.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/projections/projector_thread.h"
#include "rill/tests/support/temp_dir.h"

namespace {

namespace asio = boost::asio;
using namespace rill::examples::bank;
using rill::engine::AckLevel;
using rill::engine::async_submit;
using rill::engine::CommandOutcome;
using rill::engine::RejectCode;
using rill::testing::IoThreads;
using rill::testing::OpenBankEngine;
using rill::testing::WriterThread;

TEST_CASE("async_submit with a callback completes on the callback's strand, not the writer", "[asio][submit]") {
  rill::test::TempDir tmp("rill-asio");
  WriterThread writer;
  auto engine = OpenBankEngine(tmp.Sub("journal"), &writer);
  asio::io_context io;
  auto strand = asio::make_strand(io);

  constexpr int kCommands = 200;
  std::atomic<int> done{0}, on_strand{0}, accepted{0};
  std::vector<std::thread::id> ran_on(kCommands);
  async_submit(*engine, OpenAccount{.account = 1, .owner = 1, .currency = 978}, {}, AckLevel::kJournaled,
               asio::bind_executor(strand, [&](const CommandOutcome& o) { CHECK(o.accepted()); }));
  for (int i = 0; i < kCommands; ++i) {
    async_submit(*engine, Deposit{.account = 1, .amount = 10}, {}, AckLevel::kJournaled,
                 asio::bind_executor(strand, [&, i](CommandOutcome o) {
                   ran_on[static_cast<std::size_t>(i)] = std::this_thread::get_id();
                   if (strand.running_in_this_thread()) on_strand.fetch_add(1);
                   if (o.accepted()) accepted.fetch_add(1);
                   done.fetch_add(1);
                 }));
  }
  // Nothing runs before the io_context does: the handlers are only ever posted.
  IoThreads threads(io, 2);  // returns once every op's work guard is gone
  threads.Join();
  REQUIRE(done.load() == kCommands);
  CHECK(on_strand.load() == kCommands);
  CHECK(accepted.load() == kCommands);
  const std::thread::id writer_id = writer.get();
  for (const std::thread::id& id : ran_on) {
    CHECK(threads.Contains(id));
    CHECK(id != writer_id);
  }
}

TEST_CASE("async_submit never runs the handler inside the initiating call", "[asio][submit]") {
  rill::test::TempDir tmp("rill-asio");
  auto engine = OpenBankEngine(tmp.Sub("journal"));
  asio::io_context io;
  bool ran = false;
  // Rejected at once by the writer (unknown account), yet still delivered through io.
  async_submit(*engine, Withdraw{.account = 99, .amount = 1}, {}, AckLevel::kAccepted,
               asio::bind_executor(io, [&](const CommandOutcome& o) {
                 CHECK(o.code() == RejectCode::kNotFound);
                 ran = true;
               }));
  engine->Stop();  // the outcome is surely posted by now
  CHECK_FALSE(ran);
  io.run();
  CHECK(ran);
}

TEST_CASE("async_submit with use_future delivers the outcome through the future", "[asio][submit]") {
  rill::test::TempDir tmp("rill-asio");
  auto engine = OpenBankEngine(tmp.Sub("journal"));
  std::future<CommandOutcome> opened = async_submit(*engine, OpenAccount{.account = 5, .owner = 1, .currency = 978},
                                                    {.command_id = 1}, AckLevel::kDurable, asio::use_future);
  REQUIRE(opened.get().accepted());
  std::future<CommandOutcome> deposited = async_submit(*engine, Deposit{.account = 5, .amount = 700}, {.command_id = 2},
                                                       AckLevel::kJournaled, asio::use_future);
  const CommandOutcome o = deposited.get();
  REQUIRE(o.accepted());
  CHECK(o.stream_version() == 2);
  std::future<CommandOutcome> refused =
      async_submit(*engine, Withdraw{.account = 5, .amount = 701}, {}, AckLevel::kJournaled, asio::use_future);
  CHECK(refused.get().code() == RejectCode::kRuleViolated);
}

TEST_CASE("async_submit with use_awaitable resumes the coroutine on its own executor", "[asio][submit]") {
  rill::test::TempDir tmp("rill-asio");
  WriterThread writer;
  auto engine = OpenBankEngine(tmp.Sub("journal"), &writer);
  asio::io_context io;
  auto strand = asio::make_strand(io);
  int steps = 0;
  bool always_on_strand = true;
  std::vector<std::thread::id> resumed_on;
  asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<void> {
        CommandOutcome o = co_await async_submit(*engine, OpenAccount{.account = 3, .owner = 9, .currency = 978}, {},
                                                 AckLevel::kJournaled, asio::use_awaitable);
        CHECK(o.accepted());
        for (int i = 0; i < 50; ++i) {
          o = co_await async_submit(*engine, Deposit{.account = 3, .amount = 2}, {}, AckLevel::kJournaled,
                                    asio::use_awaitable);
          CHECK(o.accepted());
          CHECK(o.stream_version() == static_cast<std::uint64_t>(i + 2));
          always_on_strand = always_on_strand && strand.running_in_this_thread();
          resumed_on.push_back(std::this_thread::get_id());
          ++steps;
        }
        o = co_await async_submit(*engine, Withdraw{.account = 3, .amount = 101}, {}, AckLevel::kAccepted,
                                  asio::use_awaitable);
        CHECK(o.code() == RejectCode::kRuleViolated);  // balance 100
      },
      asio::detached);
  IoThreads threads(io, 2);
  threads.Join();
  CHECK(steps == 50);
  CHECK(always_on_strand);
  const std::thread::id writer_id = writer.get();
  for (const std::thread::id& id : resumed_on) {
    CHECK(threads.Contains(id));
    CHECK(id != writer_id);
  }
}

TEST_CASE("async_submit with an AppliedView completes once the read model shows the command", "[asio][submit]") {
  rill::test::TempDir tmp("rill-asio");
  auto engine = OpenBankEngine(tmp.Sub("journal"));
  rill::engine::AppliedView view("bank.balances");
  rill::projections::ProjectorThreadOptions po;
  po.journal_directory = tmp.Sub("journal");
  po.registry = &engine->registry();
  po.warn = [](const std::string&) {};
  auto thread = rill::projections::ProjectorThread::Create(std::move(po));
  REQUIRE(thread.ok());
  rill::projections::ProjectorOptions options;
  options.on_applied = [&view](std::uint64_t p) { view.Advance(p); };
  options.on_halted = [&view](std::uint64_t p, const std::string& why) { view.Halt(p, why); };
  auto* balances = (*thread)->Add<rill::projections::bank::Balances>(std::move(options));
  REQUIRE((*thread)->Start().ok());

  asio::io_context io;
  std::int64_t seen_balance = -1;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        CommandOutcome o = co_await async_submit(*engine, OpenAccount{.account = 4, .owner = 1, .currency = 978}, {},
                                                 view, asio::use_awaitable);
        REQUIRE(o.accepted());
        o = co_await async_submit(*engine, Deposit{.account = 4, .amount = 1234}, {}, view, asio::use_awaitable);
        REQUIRE(o.accepted());
        CHECK(view.position() >= o.position());
        // Read-your-writes without any wait: the read model has applied the deposit.
        const auto b = balances->model().Get(4);
        seen_balance = b ? b->balance : -2;
      },
      asio::detached);
  io.run();
  CHECK(seen_balance == 1234);
  engine->Stop();
  (*thread)->Stop();
  view.Close("test over");
}

TEST_CASE("stopping the engine with commands in flight completes every handler, kShutdown or decided",
          "[asio][submit][shutdown]") {
  rill::test::TempDir tmp("rill-asio");
  auto engine = OpenBankEngine(tmp.Sub("journal"), nullptr, /*ring_size=*/1024);
  REQUIRE(engine->execute(OpenAccount{.account = 1, .owner = 1, .currency = 978}).accepted());
  asio::io_context io;
  auto strand = asio::make_strand(io);
  constexpr int kCommands = 1000;
  std::atomic<int> done{0}, shutdown{0}, accepted{0};
  // A submitter thread races with Stop: some commands are decided, the rest get kShutdown
  // (in the ring when it stopped, or submitted after).
  std::thread submitter([&] {
    for (int i = 0; i < kCommands; ++i) {
      async_submit(*engine, Deposit{.account = 1, .amount = 1}, {}, AckLevel::kJournaled,
                   asio::bind_executor(strand, [&](const CommandOutcome& o) {
                     if (o.accepted()) accepted.fetch_add(1);
                     if (o.code() == RejectCode::kShutdown) shutdown.fetch_add(1);
                     done.fetch_add(1);
                   }));
    }
  });
  auto idle = asio::make_work_guard(io);  // until the submitter is done: io may run dry before
  IoThreads threads(io, 1);
  engine->Stop();
  submitter.join();
  idle.reset();
  threads.Join();  // returns only once every handler ran: each op holds work until then
  CHECK(done.load() == kCommands);
  CHECK(accepted.load() + shutdown.load() == kCommands);
}

TEST_CASE("handlers posted but never run are destroyed with their io_context, not leaked", "[asio][submit][shutdown]") {
  rill::test::TempDir tmp("rill-asio");
  auto engine = OpenBankEngine(tmp.Sub("journal"));
  auto sentinel = std::make_shared<int>(0);
  {
    asio::io_context io;
    for (int i = 0; i < 10; ++i) {
      async_submit(*engine, Deposit{.account = 1, .amount = 1}, {}, AckLevel::kJournaled,
                   asio::bind_executor(io, [sentinel](const CommandOutcome&) { FAIL("never run"); }));
    }
    async_submit(*engine, Deposit{.account = 1, .amount = 1}, {}, AckLevel::kJournaled,
                 asio::use_future);  // a future nobody waits for: its op must not leak either
    engine->Stop();                  // every op is now posted to io (or the system executor)
    CHECK(sentinel.use_count() == 11);
  }  // io destroyed without run(): the queued handlers are destroyed
  CHECK(sentinel.use_count() == 1);
}

}  // namespace
