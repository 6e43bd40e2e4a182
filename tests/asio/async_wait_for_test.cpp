// rill::engine::async_wait_for (engine/asio.h): completes with OK once the view reaches the
// position, with Unavailable when it halts or closes first; each token flavour; the handler
// runs on its executor, never on the thread that advanced the view.
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
#include <thread>

#include "asio_test_util.h"
#include "rill/engine/applied_view.h"

namespace {

namespace asio = boost::asio;
using rill::Status;
using rill::engine::AppliedView;
using rill::engine::async_wait_for;
using rill::testing::IoThreads;

TEST_CASE("async_wait_for with a callback completes on its strand once the view reaches the position",
          "[asio][wait_for]") {
  AppliedView view("test.view");
  asio::io_context io;
  auto strand = asio::make_strand(io);
  std::atomic<int> ok{0}, failed{0}, on_strand{0};
  std::thread::id ran_on;
  for (std::uint64_t p : {1, 5, 10}) {
    async_wait_for(view, p, asio::bind_executor(strand, [&](Status s) {
                     (s.ok() ? ok : failed).fetch_add(1);
                     if (strand.running_in_this_thread()) on_strand.fetch_add(1);
                     ran_on = std::this_thread::get_id();
                   }));
  }
  IoThreads threads(io, 2);  // the three waits hold work: run() stays up until they complete
  std::thread::id projector_id;
  std::thread projector([&] {  // stands in for the projector thread that feeds the view
    projector_id = std::this_thread::get_id();
    view.Advance(4);
    view.Advance(10);
  });
  projector.join();
  threads.Join();
  CHECK(ok.load() == 3);
  CHECK(failed.load() == 0);
  CHECK(on_strand.load() == 3);
  CHECK(threads.Contains(ran_on));
  CHECK(ran_on != projector_id);
}

TEST_CASE("async_wait_for on a position already applied completes, posted rather than inline", "[asio][wait_for]") {
  AppliedView view("test.view");
  view.Advance(7);
  asio::io_context io;
  bool ran = false;
  async_wait_for(view, 7, asio::bind_executor(io, [&](Status s) {
                   CHECK(s.ok());
                   ran = true;
                 }));
  CHECK_FALSE(ran);
  io.run();
  CHECK(ran);
}

TEST_CASE("async_wait_for with use_future", "[asio][wait_for]") {
  AppliedView view("test.view");
  std::future<Status> f = async_wait_for(view, 3, asio::use_future);
  CHECK(f.wait_for(std::chrono::milliseconds(0)) == std::future_status::timeout);
  std::thread projector([&] { view.Advance(3); });
  projector.join();
  CHECK(f.get().ok());
}

TEST_CASE("async_wait_for with use_awaitable resumes on the coroutine's strand", "[asio][wait_for]") {
  AppliedView view("test.view");
  asio::io_context io;
  auto strand = asio::make_strand(io);
  bool on_strand = false;
  Status result = Status::TimedOut("not run");
  std::atomic<bool> waiting{false};
  asio::co_spawn(
      strand,
      [&]() -> asio::awaitable<void> {
        waiting.store(true);
        result = co_await async_wait_for(view, 42, asio::use_awaitable);
        on_strand = strand.running_in_this_thread();
      },
      asio::detached);
  auto idle = asio::make_work_guard(io);  // until the coroutine has started waiting
  IoThreads threads(io, 2);
  std::thread projector([&] {
    for (std::uint64_t p = 1; p <= 42; ++p) view.Advance(p);
  });
  projector.join();
  idle.reset();
  threads.Join();
  CHECK(waiting.load());
  CHECK(result.ok());
  CHECK(on_strand);
}

TEST_CASE("async_wait_for completes with Unavailable when the view halts or closes first", "[asio][wait_for]") {
  asio::io_context io;
  Status halted_result, closed_result, after_close;
  {
    AppliedView view("test.view");
    async_wait_for(view, 10, asio::bind_executor(io, [&](Status s) { halted_result = std::move(s); }));
    std::thread projector([&] {
      view.Advance(4);
      view.Halt(5, "event at 5 failed to apply");
    });
    projector.join();
  }
  {
    AppliedView view("test.view");
    async_wait_for(view, 10, asio::bind_executor(io, [&](Status s) { closed_result = std::move(s); }));
    view.Close("shutting down");
    async_wait_for(view, 1, asio::bind_executor(io, [&](Status s) { after_close = std::move(s); }));
  }
  io.run();
  CHECK(halted_result.IsUnavailable());
  CHECK(closed_result.IsUnavailable());
  CHECK(after_close.IsUnavailable());
}

}  // namespace
