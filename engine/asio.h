// rill/engine/asio.h: the engine from an Asio event loop: submit a command, or wait for a read
// model to apply a position, with any Asio completion token (a callback, use_awaitable,
// use_future), without ever blocking the loop on the writer or the writer on the loop.
//
//   #include "rill/engine/asio.h"   // needs Boost.Asio (target Boost::headers)
//   namespace asio = boost::asio;
//   asio::awaitable<void> Handle(Engine<BankDomain>& engine, rill::engine::AppliedView& balances) {
//     CommandOutcome o = co_await rill::engine::async_submit(engine, Deposit{7, 500}, {.command_id = 42},
//                                                            AckLevel::kJournaled, asio::use_awaitable);
//     if (!o.accepted()) co_return reply_rejected(o.rejection());
//     // Read-your-writes: the balances read model has applied the deposit.
//     rill::Status s = co_await rill::engine::async_wait_for(balances, o.position(), asio::use_awaitable);
//     // or in one step: co_await async_submit(engine, cmd, meta, balances, asio::use_awaitable)
//   }
//   async_submit(engine, cmd, meta, AckLevel::kDurable,
//                asio::bind_executor(strand, [](const CommandOutcome& o) { ... }));   // on `strand`
//   std::future<CommandOutcome> f = async_submit(engine, cmd, meta, ack, asio::use_future);
//
// Completion signatures: async_submit void(CommandOutcome) (rejections are values, never
// exceptions: kShutdown after Stop), async_wait_for void(rill::Status) (OK, or Unavailable when
// the view halted or closed below the position).
//
// Where the handler runs: always through its associated executor (asio::get_associated_executor;
// a coroutine's executor under use_awaitable; system_executor for a plain callback, so bind one
// with bind_executor), never on the writer or a projector thread and never inside the
// initiating call. The engine's callback (writer thread; projector or calling thread for
// async_wait_for) only copies the outcome and posts to that executor: no wait on Asio.
// Outstanding work on the executor is held from initiation until the engine's thread is done
// posting, so io_context::run() does not return while an op is in flight, and once it has
// returned by running out of work no engine thread touches the context again: destroying it
// then is safe. The op is allocated with the handler's associated allocator; the post may
// allocate too (Asio's own operation object), and takes the scheduler's mutex briefly.
//
// Lifetimes: the engine (and view) must outlive the calls; the execution context must outlive
// every op in flight (do not io_context::stop() and destroy it with ops pending: Stop the
// engine and Close the views first; their ops then complete with kShutdown / Unavailable).
// Handlers posted but never run are destroyed with the io_context, without leaks.
// A full ring makes async_submit wait for a slot on the calling thread, as Engine::submit
// does: bounded, because the writer never waits for the loop. No cancellation (Boost 1.74 has
// no cancellation slots): an op ends when its outcome arrives.
//
// Thread safety: any thread; each handler runs once, on its executor.
#pragma once

// Boost 1.74's awaitable.hpp uses std::exchange without including <utility> (TOOLCHAIN.md §6.7).
#include <utility>

#include <boost/asio/associated_allocator.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "rill/base/status.h"
#include "rill/engine/ack_level.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/command_outcome.h"
#include "rill/engine/completion.h"
#include "rill/engine/engine.h"

namespace rill::engine {
namespace asio_detail {

// What the handler receives, made from the engine's outcome on the handler's executor (so the
// cold-path string of a Status is never built on the writer or a projector thread).
template <typename Result>
Result MakeResult(const CommandOutcome& o);
template <>
inline CommandOutcome MakeResult<CommandOutcome>(const CommandOutcome& o) {
  return o;
}
template <>
inline Status MakeResult<Status>(const CommandOutcome& o) {
  if (o.accepted()) return Status::OK();
  return Status::Unavailable(std::string("read model unavailable: ") + o.rejection().c_str());
}

// One asynchronous operation: the handler, its executor (with outstanding work, so run() does
// not return while the command is in flight) and the outcome.
// Lifecycle: Create (initiating thread) -> OnOutcome (engine thread: store, post) -> Invoker
// (handler's executor: destroy the op, then call the handler). Invariant: exactly one owner at
// a time: the engine (through the CompletionTarget) until OnOutcome's post, then the Invoker.
template <typename Handler, typename Result>
class Op {
 public:
  using Executor = boost::asio::associated_executor_t<Handler>;
  static_assert(boost::asio::execution::is_executor<Executor>::value,
                "rill::engine::async_* need a standard (execution::) executor: io_context::executor_type, "
                "strand<...>, any_io_executor, system_executor; not the legacy io_context::strand");
  // The executor with outstanding work (what executor_work_guard holds).
  using WorkExecutor = std::decay_t<decltype(boost::asio::prefer(std::declval<const Executor&>(),
                                                                 boost::asio::execution::outstanding_work.tracked))>;
  using HandlerAllocator = boost::asio::associated_allocator_t<Handler>;
  using Allocator = typename std::allocator_traits<HandlerAllocator>::template rebind_alloc<Op>;

  static Op* Create(Handler&& handler) {
    Allocator alloc(boost::asio::get_associated_allocator(handler));
    Op* op = std::allocator_traits<Allocator>::allocate(alloc, 1);
    try {
      std::allocator_traits<Allocator>::construct(alloc, op, std::move(handler));
    } catch (...) {
      std::allocator_traits<Allocator>::deallocate(alloc, op, 1);
      throw;
    }
    return op;
  }

  CompletionTarget target() noexcept { return {&Op::OnOutcome, this}; }

  // The engine's callback, on the writer thread (or a projector / the calling thread). Only a
  // copy and a post: never runs the handler here, never waits. Post throws only on allocation
  // failure, which ends the process (noexcept), as any failed allocation on the writer would.
  //
  // Order matters: once posted, the handler may run and the loop finish at once, and the
  // owner may then destroy the execution context while this thread is still inside post() (an
  // io_context signals its condition variable after unlocking). So this thread keeps its own
  // outstanding work across the post (run() cannot return before it is released), drops its
  // executor copies (a strand's last reference must go while the context lives), and
  // releases the work last: after that it touches nothing of the context.
  static void OnOutcome(void* self, const CommandOutcome& outcome) noexcept {
    Op* op = static_cast<Op*>(self);
    op->outcome_ = outcome;
    std::optional<WorkExecutor> work = std::exchange(op->work_, std::nullopt);
    {
      std::optional<Executor> ex = std::exchange(op->executor_, std::nullopt);
      // The post's queue (a mutex in the executor) orders outcome_ before the handler's read.
      boost::asio::post(*ex, Invoker(op));
    }
    work.reset();
  }

  // Runs on the handler's executor; owns the op until then. Destroyed without being called
  // (an io_context destroyed with it queued), it destroys the op and the handler: no leak.
  class Invoker {
   public:
    using allocator_type = HandlerAllocator;  // Asio allocates the posted operation with it

    explicit Invoker(Op* op) noexcept : op_(op), alloc_(boost::asio::get_associated_allocator(op->handler_)) {}
    Invoker(Invoker&& other) noexcept : op_(std::exchange(other.op_, nullptr)), alloc_(other.alloc_) {}
    Invoker(const Invoker&) = delete;
    Invoker& operator=(const Invoker&) = delete;
    Invoker& operator=(Invoker&&) = delete;
    ~Invoker() {
      if (op_ != nullptr) Destroy(op_);
    }

    // A copy: Asio may ask a moved-from Invoker.
    allocator_type get_allocator() const noexcept { return alloc_; }

    void operator()() {
      Op* op = std::exchange(op_, nullptr);
      // Free the op before the upcall, so a handler that starts the next operation may reuse
      // the memory.
      Handler handler(std::move(op->handler_));
      Result result = MakeResult<Result>(op->outcome_);
      Destroy(op);
      std::move(handler)(std::move(result));
    }

   private:
    Op* op_;
    allocator_type alloc_;
  };

  explicit Op(Handler&& handler)
      : handler_(std::move(handler)),
        executor_(boost::asio::get_associated_executor(handler_)),
        work_(boost::asio::prefer(*executor_, boost::asio::execution::outstanding_work.tracked)) {}

 private:
  static void Destroy(Op* op) noexcept {
    Allocator alloc(boost::asio::get_associated_allocator(op->handler_));
    std::allocator_traits<Allocator>::destroy(alloc, op);
    std::allocator_traits<Allocator>::deallocate(alloc, op, 1);
  }

  Handler handler_;
  // Engaged from Create until OnOutcome takes them (so the Invoker never touches them).
  std::optional<Executor> executor_;
  std::optional<WorkExecutor> work_;
  CommandOutcome outcome_;
};

inline CommandOutcome ShutdownOutcome() noexcept {
  return CommandOutcome::Rejected(Rejection(RejectCode::kShutdown, 0, "the engine is stopped"));
}

template <typename D>
struct InitiateSubmit {
  Engine<D>* engine;

  template <typename Handler>
  void operator()(Handler&& handler, const typename Engine<D>::Command& cmd, const CommandMeta& meta,
                  AckLevel ack) const {
    using O = Op<std::decay_t<Handler>, CommandOutcome>;
    O* op = O::Create(std::forward<Handler>(handler));
    // kOk: the engine owns the op until it delivers; kShutDown: nothing was submitted, so
    // complete here (posted, never inline).
    if (engine->submit(cmd, meta, ack, op->target()) != ClaimStatus::kOk) O::OnOutcome(op, ShutdownOutcome());
  }
};

template <typename D>
struct InitiateSubmitApplied {
  Engine<D>* engine;
  AppliedView* view;

  template <typename Handler>
  void operator()(Handler&& handler, const typename Engine<D>::Command& cmd, const CommandMeta& meta) const {
    using O = Op<std::decay_t<Handler>, CommandOutcome>;
    O* op = O::Create(std::forward<Handler>(handler));
    if (engine->submit(cmd, meta, *view, op->target()) != ClaimStatus::kOk) O::OnOutcome(op, ShutdownOutcome());
  }
};

struct InitiateWaitFor {
  AppliedView* view;

  template <typename Handler>
  void operator()(Handler&& handler, std::uint64_t position) const {
    using O = Op<std::decay_t<Handler>, Status>;
    O* op = O::Create(std::forward<Handler>(handler));
    // The outcome NotifyWhenApplied hands back once applied: accepted = OK.
    view->NotifyWhenApplied(position, CommandOutcome::Accepted(position, 0, 0, 0), op->target());
  }
};

}  // namespace asio_detail

// Submits `cmd` and completes with its outcome at `ack` (void(CommandOutcome)). After Stop, or
// when the engine stops with the command still in the ring: an outcome rejected kShutdown.
template <typename D, BOOST_ASIO_COMPLETION_TOKEN_FOR(void(CommandOutcome)) CompletionToken>
auto async_submit(Engine<D>& engine, const typename Engine<D>::Command& cmd, const CommandMeta& meta, AckLevel ack,
                  CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(CommandOutcome)>(asio_detail::InitiateSubmit<D>{&engine},
                                                                            token, cmd, meta, ack);
}

// As above at AckLevel::kApplied: completes once `view` has applied the command's events (a
// query on that read model then sees them), or with the view's kViewUnavailable rejection.
template <typename D, BOOST_ASIO_COMPLETION_TOKEN_FOR(void(CommandOutcome)) CompletionToken>
auto async_submit(Engine<D>& engine, const typename Engine<D>::Command& cmd, const CommandMeta& meta, AppliedView& view,
                  CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(CommandOutcome)>(
      asio_detail::InitiateSubmitApplied<D>{&engine, &view}, token, cmd, meta);
}

// Completes (void(rill::Status)) with OK once `view` has applied `position`, at once (posted)
// if it already has; Unavailable if the view halts or closes first.
template <BOOST_ASIO_COMPLETION_TOKEN_FOR(void(Status)) CompletionToken>
auto async_wait_for(AppliedView& view, std::uint64_t position, CompletionToken&& token) {
  return boost::asio::async_initiate<CompletionToken, void(Status)>(asio_detail::InitiateWaitFor{&view}, token,
                                                                    position);
}

}  // namespace rill::engine
