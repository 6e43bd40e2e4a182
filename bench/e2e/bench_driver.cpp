#include "rill/bench/e2e/bench_driver.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <span>
#include <thread>
#include <variant>

#include "rill/base/futex.h"
#include "rill/base/thread_affinity.h"
#include "rill/bench/e2e/bank_workload.h"
#include "rill/bench/e2e/blog_workload.h"
#include "rill/bench/e2e/open_loop.h"
#include "rill/engine/applied_view.h"
#include "rill/engine/engine.h"
#include "rill/examples/bank/bank_domain.h"
#include "rill/examples/bank/read_models/balances.h"
#include "rill/examples/bank/read_models/statements.h"
#include "rill/examples/bank/read_models/top_accounts.h"
#include "rill/examples/blog/blog_domain.h"
#include "rill/examples/blog/read_models/indexes.h"
#include "rill/examples/blog/read_models/post_details.h"
#include "rill/projections/projector_thread.h"

namespace rill::bench {
namespace {

namespace fs = std::filesystem;
using engine::AckLevel;
using engine::CommandOutcome;
using engine::RejectCode;

std::int64_t NowNs() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// ---- Workload traits: what differs between bank and blog ---------------------------------

struct BankTraits {
  using Domain = examples::bank::BankDomain;
  using Stream = BankCommandStream;
  using Options = BankWorkloadOptions;
  static Options Make(const BenchConfig& c) {
    return {.accounts = c.accounts, .producers = c.producers, .seed = c.seed};
  }
  static std::vector<BankCommand> Setup(const Options& o) { return SetupCommands(o); }
  // What the state check adds up per accepted command: money.
  static std::int64_t Tally(const examples::bank::Command& cmd) noexcept { return NetDeposit(cmd); }
  static void AddProjector(projections::ProjectorThread& t, int index, projections::ProjectorOptions po) {
    switch (index % 3) {
      case 0:
        t.Add<projections::bank::Balances>(std::move(po));
        break;
      case 1:
        t.Add<projections::bank::TopAccounts>(std::move(po));
        break;
      default:
        t.Add<projections::bank::Statements>(std::move(po));
        break;
    }
  }
};

struct BlogTraits {
  using Domain = examples::blog::BlogDomain;
  using Stream = BlogCommandStream;
  using Options = BlogWorkloadOptions;
  static Options Make(const BenchConfig& c) { return {.posts = c.accounts, .producers = c.producers, .seed = c.seed}; }
  static std::vector<BlogCommand> Setup(const Options& o) { return BlogSetupCommands(o); }
  // Comments: the state check compares them with the aggregates' comment counts.
  static std::int64_t Tally(const examples::blog::Command& cmd) noexcept {
    return std::holds_alternative<examples::blog::AddComment>(cmd) ? 1 : 0;
  }
  static void AddProjector(projections::ProjectorThread& t, int index, projections::ProjectorOptions po) {
    // Room for the drafts a long run creates (ids grow with the command count).
    constexpr std::uint64_t kMaxPosts = std::uint64_t{1} << 26;
    switch (index % 3) {
      case 0:
        t.Add<projections::blog::PostDetails>(std::move(po),
                                              projections::blog::PostDetailsOptions{.max_posts = kMaxPosts});
        break;
      case 1:
        t.Add<projections::blog::CommentCounts>(std::move(po),
                                                projections::blog::CommentCountsOptions{.max_posts = kMaxPosts});
        break;
      default:
        t.Add<projections::blog::RecentPublished>(std::move(po));
        break;
    }
  }
};

// ---- Shared between threads --------------------------------------------------------------

// A per-batch mark the writer leaves for projector 0: when its last position is applied, the
// batch's commands have been projected. Single producer (writer), single consumer (projector 0).
struct BatchMark {
  std::uint64_t end_position = 0;
  std::int64_t committed_ns = 0;
  std::uint32_t commands = 0;
};

class MarkQueue {
 public:
  static constexpr std::size_t kCapacity = std::size_t{1} << 16;
  MarkQueue() : marks_(kCapacity) {}
  // Writer thread. False when full (the mark is dropped and counted).
  bool Push(const BatchMark& m) noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    // Acquire: the consumer is done reading the slot it released.
    if (tail - head_.load(std::memory_order_acquire) == kCapacity) return false;
    marks_[tail % kCapacity] = m;
    tail_.store(tail + 1, std::memory_order_release);  // release: the mark is written first
    return true;
  }
  // Projector 0's thread: fn(mark) for each mark with end_position <= position.
  template <typename Fn>
  void PopUpTo(std::uint64_t position, Fn&& fn) noexcept {
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);  // pairs with Push's release
    while (head != tail && marks_[head % kCapacity].end_position <= position) {
      fn(marks_[head % kCapacity]);
      ++head;
    }
    head_.store(head, std::memory_order_release);  // release: slots read before reuse
  }

 private:
  std::vector<BatchMark> marks_;
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> head_{0};
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> tail_{0};
};

// Writer-thread state (on_batch and the callbacks it precedes); read after Engine::Stop.
struct WriterSide {
  bool measuring = false;         // copy of Run::measuring, refreshed per batch
  std::int64_t dequeued_ns = 0;   // the current batch's
  bool record_ring_wait = false;  // acks delivered right after on_batch on this thread
  int pin_cpu = -1;
  bool pin_tried = false;
  Status pin_status;
  std::uint64_t batches = 0, batch_commands = 0;
  LatencyHistogram ring_wait, apply, commit;
};

struct RunState {
  std::atomic<bool> measuring{false};  // relaxed: gates statistics only
  std::atomic<bool> stop{false};       // relaxed: producers poll it between rounds
  std::atomic<bool> go{false};         // release/acquire: start barrier after setup
  std::atomic<std::uint64_t> duplicates{0};
  std::atomic<std::uint64_t> marks_dropped{0};
  std::atomic<const void*> engine{nullptr};  // for on_batch's committed position
  std::uint64_t (*committed)(const void*) = nullptr;
  bool stamp_done = false;  // open loop: the callback stamps the outcome time
  WriterSide writer;
  MarkQueue marks;
  LatencyHistogram projection;  // projector 0's thread only
};

// One outstanding command. The callback writes the outcome fields, then publishes `state`.
struct alignas(kFalseSharingRange) InFlight {
  static constexpr std::uint32_t kPending = 0, kSleeping = 1, kDone = 2;
  std::atomic<std::uint32_t> state{kDone};
  bool accepted = false;
  RejectCode code = RejectCode::kNone;
  std::int64_t sent_ns = 0;    // latency origin: submit time (closed) or intended time (open)
  std::int64_t submit_ns = 0;  // when it entered the ring (ring wait)
  std::int64_t done_ns = 0;    // open loop: stamped by the callback
  std::int64_t tally = 0;      // Traits::Tally of the command
  RunState* run = nullptr;

  static void OnOutcome(void* context, const CommandOutcome& o) noexcept {
    auto* f = static_cast<InFlight*>(context);
    RunState& run = *f->run;
    f->accepted = o.accepted();
    f->code = o.rejection().code;
    if (run.stamp_done) f->done_ns = NowNs();
    // Only acknowledgements the writer delivers right after on_batch of their own batch.
    if (run.writer.record_ring_wait && f->accepted && run.writer.measuring)
      run.writer.ring_wait.Record(
          static_cast<std::uint64_t>(std::max<std::int64_t>(0, run.writer.dequeued_ns - f->submit_ns)));
    // Release: the fields above before the producer sees kDone. The producer may reuse the
    // slot right after, so only the word's address is touched below (as engine::Completion).
    const std::uint32_t prev = f->state.exchange(kDone, std::memory_order_release);
    if (prev == kDone) [[unlikely]] {
      run.duplicates.fetch_add(1, std::memory_order_relaxed);
    } else if (prev == kSleeping) {
      FutexWakeAll(f->state);
    }
  }

  bool done() const noexcept { return state.load(std::memory_order_acquire) == kDone; }  // pairs with the exchange

  // Spins briefly, yields, then sleeps on the futex (never a long busy-spin: cores are few).
  void Wait() noexcept {
    for (int i = 0; i < 128; ++i) {
      if (done()) return;
      engine::detail::CpuRelax();
    }
    for (int i = 0; i < 8; ++i) {
      if (done()) return;
      std::this_thread::yield();
    }
    for (;;) {
      std::uint32_t s = state.load(std::memory_order_acquire);
      if (s == kDone) return;
      // Acquire on both paths: a failure may mean kDone, whose fields we then read.
      if (s == kPending &&
          !state.compare_exchange_strong(s, kSleeping, std::memory_order_acquire, std::memory_order_acquire))
        continue;
      FutexWait(state, kSleeping, -1);
    }
  }
};

struct ProducerResult {
  std::uint64_t submitted = 0, completed = 0, accepted = 0, rejected = 0, failed = 0;
  std::int64_t tally = 0;
  LatencyHistogram latency;
  Status pin_status;
  std::int64_t finished_ns = 0;
};

// One producer thread's loop, closed or open, over preallocated slots.
template <typename Traits>
class Producer {
 public:
  using Engine = engine::Engine<typename Traits::Domain>;
  using Submission = typename Engine::Submission;

  Producer(const BenchConfig& c, RunState* run, Engine* engine, engine::AppliedView* view, int index)
      : c_(c),
        run_(run),
        engine_(engine),
        view_(view),
        stream_(Traits::Make(c), index),
        n_(static_cast<std::size_t>(c.inflight)),
        slots_(new InFlight[n_]),
        batch_(n_) {
    for (std::size_t i = 0; i < n_; ++i) slots_[i].run = run;
  }

  void Main(int pin_cpu, std::int64_t end_hint_ns) {
    if (pin_cpu >= 0) result_.pin_status = PinCurrentThread(pin_cpu);
    // Acquire: pairs with the release that opens the measurement (setup done, engine ready).
    while (!run_->go.load(std::memory_order_acquire)) std::this_thread::yield();
    if (c_.open_loop()) {
      OpenLoop(end_hint_ns);
    } else {
      ClosedLoop();
    }
    result_.finished_ns = NowNs();
  }

  ProducerResult& result() { return result_; }

 private:
  bool MaySend() const noexcept {
    if (c_.commands_per_producer != 0) return result_.submitted < c_.commands_per_producer;
    return !run_->stop.load(std::memory_order_relaxed);
  }
  std::uint64_t Remaining() const noexcept {
    return c_.commands_per_producer != 0 ? c_.commands_per_producer - result_.submitted : ~std::uint64_t{0};
  }

  // Fills slots [head_ + outstanding_, ...) with k new commands and submits them at once.
  // `intended` gives each command's latency origin.
  template <typename IntendedFn>
  bool SubmitNew(std::size_t k, std::int64_t now, IntendedFn&& intended) {
    for (std::size_t j = 0; j < k; ++j) {
      InFlight& f = slots_[(head_ + outstanding_ + j) % n_];
      const auto cmd = stream_.Next();
      // Relaxed: the ring's publish (a release) orders it before the writer's exchange.
      f.state.store(InFlight::kPending, std::memory_order_relaxed);
      f.sent_ns = intended(j);
      f.submit_ns = now;
      f.tally = Traits::Tally(cmd.command);
      Submission& s = batch_[j];
      s.meta = cmd.meta;
      s.command = cmd.command;
      s.ack = c_.ack;
      s.view = c_.ack == AckLevel::kApplied ? view_ : nullptr;
      s.target = {&InFlight::OnOutcome, &f};
    }
    const engine::BatchSubmitResult r = engine_->submit_batch(std::span<const Submission>(batch_.data(), k));
    outstanding_ += r.submitted;
    result_.submitted += r.submitted;
    for (std::size_t j = r.submitted; j < k; ++j)  // never entered the ring: free again
      slots_[(head_ + outstanding_ + (j - r.submitted)) % n_].state.store(InFlight::kDone, std::memory_order_relaxed);
    return r.status == engine::ClaimStatus::kOk;
  }

  // Collects acknowledged commands from the oldest on; latency to `now` (closed) or to the
  // callback's stamp (open).
  void Collect(std::int64_t now) {
    while (outstanding_ != 0 && slots_[head_].done()) {
      const InFlight& f = slots_[head_];
      const std::int64_t done = run_->stamp_done ? f.done_ns : now;
      result_.latency.Record(OpenLoopLatency(f.sent_ns, done));
      ++result_.completed;
      if (f.accepted) {
        ++result_.accepted;
        result_.tally += f.tally;
      } else if (f.code == RejectCode::kRuleViolated || f.code == RejectCode::kNotFound ||
                 f.code == RejectCode::kInvalidCommand) {
        ++result_.rejected;  // the domain's rules (insufficient funds, ...): a real ledger sees these
      } else {
        ++result_.failed;
      }
      head_ = (head_ + 1) % n_;
      --outstanding_;
    }
  }

  void ClosedLoop() {
    for (;;) {
      if (MaySend()) {
        const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(n_ - outstanding_, Remaining()));
        if (k != 0) {
          const std::int64_t now = NowNs();
          if (!SubmitNew(k, now, [now](std::size_t) { return now; })) break;
        }
      }
      if (outstanding_ == 0) {
        if (!MaySend()) break;
        continue;
      }
      slots_[head_].Wait();
      Collect(NowNs());
    }
    Drain();
  }

  void OpenLoop(std::int64_t end_ns) {
    const double per_producer = c_.rate / c_.producers;
    const OpenLoopSchedule schedule(NowNs(), per_producer);
    for (;;) {
      const std::int64_t now = NowNs();
      Collect(now);
      const bool timed_out = c_.commands_per_producer == 0 && now >= end_ns;
      if (timed_out || !MaySend()) break;
      // Capped by a fixed command count, if any (submitted + Remaining() would wrap without one).
      std::uint64_t due = schedule.DueBy(now);
      if (c_.commands_per_producer != 0) due = std::min(due, c_.commands_per_producer);
      const std::size_t k =
          static_cast<std::size_t>(std::min<std::uint64_t>(due - result_.submitted, n_ - outstanding_));
      if (k != 0) {
        const std::uint64_t first = result_.submitted;
        if (!SubmitNew(k, now, [&](std::size_t j) { return schedule.Intended(first + j); })) break;
        continue;
      }
      if (outstanding_ == n_) {
        slots_[head_].Wait();  // every slot busy: the delay shows in the next commands' latency
        continue;
      }
      const std::int64_t wait = schedule.Intended(result_.submitted) - now;
      if (wait > 200'000) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(wait - 100'000));
      } else {
        std::this_thread::yield();  // not a busy spin: lets the writer and projectors run
      }
    }
    Drain();
  }

  void Drain() {
    while (outstanding_ != 0) {
      slots_[head_].Wait();
      Collect(NowNs());
    }
  }

  const BenchConfig& c_;
  RunState* run_;
  Engine* engine_;
  engine::AppliedView* view_;
  typename Traits::Stream stream_;
  const std::size_t n_;
  std::unique_ptr<InFlight[]> slots_;
  std::vector<Submission> batch_;
  std::size_t head_ = 0, outstanding_ = 0;
  ProducerResult result_;
};

// Counts setup outcomes; waited on by the main thread (cold).
struct SetupCounter {
  std::atomic<std::uint64_t> done{0}, failed{0};
  static void OnOutcome(void* context, const CommandOutcome& o) noexcept {
    auto* s = static_cast<SetupCounter*>(context);
    if (!o.accepted()) s->failed.fetch_add(1, std::memory_order_relaxed);
    s->done.fetch_add(1, std::memory_order_release);  // release: pairs with the waiter's acquire
  }
};

int CpuFor(const BenchConfig& c, int slot) {
  if (c.pin_cpus.empty()) return -1;
  return c.pin_cpus[static_cast<std::size_t>(slot) % c.pin_cpus.size()];
}

template <typename Traits>
Result<EngineBenchReport> RunTyped(const BenchConfig& c, std::FILE* progress) {
  using Domain = typename Traits::Domain;
  using Engine = engine::Engine<Domain>;

  EngineBenchReport report;
  report.config = c;
  report.journal_dir = c.dir;
  report.cpus = AvailableCpuCount();
  auto run = std::make_unique<RunState>();
  run->stamp_done = c.open_loop();
  run->writer.pin_cpu = CpuFor(c, 0);
  // Acknowledgements the writer delivers right after on_batch of their own batch.
  run->writer.record_ring_wait =
      c.ack == AckLevel::kJournaled || (c.ack == AckLevel::kDurable && c.durability == journal::Durability::kNone);
  report.ring_wait_measured = run->writer.record_ring_wait;

  std::error_code ec;
  fs::create_directories(c.dir, ec);
  if (ec) return Status::IOError("cannot create the journal directory " + c.dir + ": " + ec.message());

  const auto workload = Traits::Make(c);
  const auto setup = Traits::Setup(workload);

  engine::EngineOptions eo;
  eo.journal.directory = c.dir;
  eo.journal.durability = c.durability;
  eo.journal.sync_interval_ms = c.sync_interval_ms;
  eo.journal.segment_size = c.segment_size;
  eo.ring_size = c.ring_size;
  eo.max_batch = c.max_batch;
  eo.processor.expected_aggregates = static_cast<std::size_t>(c.accounts) + 1024;
  RunState* r = run.get();
  const bool marks = c.projectors > 0;
  eo.on_batch = [r, marks](const engine::BatchTiming& t) {
    WriterSide& w = r->writer;
    if (!w.pin_tried) [[unlikely]] {
      w.pin_tried = true;  // the writer is the engine's thread: pin it from inside, once
      if (w.pin_cpu >= 0) w.pin_status = PinCurrentThread(w.pin_cpu);
    }
    w.measuring = r->measuring.load(std::memory_order_relaxed);
    w.dequeued_ns = t.dequeued_ns;
    if (!w.measuring || t.commands == 0) return;
    ++w.batches;
    w.batch_commands += t.commands;
    w.apply.RecordN(static_cast<std::uint64_t>(t.decided_ns - t.dequeued_ns), t.commands);
    w.commit.RecordN(static_cast<std::uint64_t>(t.committed_ns - t.decided_ns), t.commands);
    if (marks) {
      // Acquire: pairs with the release store after Open (the engine pointer is set).
      const void* e = r->engine.load(std::memory_order_acquire);
      if (e != nullptr && !r->marks.Push({r->committed(e), t.committed_ns, t.commands}))
        r->marks_dropped.fetch_add(1, std::memory_order_relaxed);
    }
  };
  eo.log_to_stderr = true;

  auto opened = Engine::Open(eo);
  if (!opened.ok()) return opened.status().WithContext("rill bench: opening the engine");
  std::unique_ptr<Engine> eng = std::move(opened).value();
  r->committed = [](const void* e) { return static_cast<const Engine*>(e)->committed_position(); };
  r->engine.store(eng.get(), std::memory_order_release);

  // Projectors: the first feeds the applied(view) acknowledgement and the projection stage.
  engine::AppliedView view("bench.view");
  std::vector<std::unique_ptr<projections::ProjectorThread>> projectors;
  if (c.projectors > 0) {
    fs::create_directories(fs::path(c.dir) / "checkpoints", ec);
    if (ec) return Status::IOError("cannot create " + c.dir + "/checkpoints: " + ec.message());
  }
  for (int i = 0; i < c.projectors; ++i) {
    projections::ProjectorThreadOptions po;
    po.name = "bench-projector-" + std::to_string(i);
    po.journal_directory = c.dir;
    po.registry = &eng->registry();
    po.cpu = CpuFor(c, 1 + c.producers + i);
    po.verify = c.projector_verify;
    po.checkpoint_directory = (fs::path(c.dir) / "checkpoints").string();
    po.warn = [&report](const std::string& w) { report.notes.push_back("projector: " + w); };
    auto t = projections::ProjectorThread::Create(std::move(po));
    if (!t.ok()) return t.status().WithContext("rill bench: projector");
    projections::ProjectorOptions opts;
    if (i == 0) {
      opts.on_applied = [&view, r](std::uint64_t p) {
        view.Advance(p);
        if (!r->measuring.load(std::memory_order_relaxed)) return;
        const std::int64_t now = NowNs();
        r->marks.PopUpTo(p, [&](const BatchMark& m) {
          r->projection.RecordN(static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - m.committed_ns)),
                                m.commands);
        });
      };
      opts.on_halted = [&view](std::uint64_t p, const std::string& why) { view.Halt(p, why); };
    }
    Traits::AddProjector(**t, i, std::move(opts));
    projectors.push_back(std::move(t).value());
  }
  for (auto& t : projectors) {
    if (Status s = t->Start(); !s.ok()) return s.WithContext("rill bench: starting a projector");
  }

  // Setup (not measured): opens and initial deposits, or posts, at kJournaled.
  if (progress) std::fprintf(progress, "setup: %zu commands\n", setup.size());
  {
    SetupCounter counter;
    std::vector<typename Engine::Submission> chunk;
    chunk.reserve(1024);
    for (std::size_t i = 0; i < setup.size(); i += chunk.capacity()) {
      chunk.clear();
      for (std::size_t j = i; j < std::min(setup.size(), i + chunk.capacity()); ++j)
        chunk.push_back({setup[j].meta, setup[j].command, AckLevel::kJournaled, {&SetupCounter::OnOutcome, &counter}});
      if (eng->submit_batch(chunk).status != engine::ClaimStatus::kOk)
        return Status::Unavailable("engine stopped during setup");
    }
    while (counter.done.load(std::memory_order_acquire) < setup.size())
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (counter.failed.load() != 0)
      return Status::Unavailable(std::to_string(counter.failed.load()) + " setup commands were rejected");
  }
  report.setup_commands = setup.size();
  const std::uint64_t setup_position = eng->committed_position();
  for (auto& t : projectors) {
    for (const auto& p : t->projectors()) {
      if (Status s = p->WaitFor(setup_position, std::chrono::seconds(120)); !s.ok())
        return s.WithContext("rill bench: a projector did not catch up with the setup");
    }
  }

  // The measured part.
  std::vector<std::unique_ptr<Producer<Traits>>> producers;
  for (int p = 0; p < c.producers; ++p)
    producers.push_back(std::make_unique<Producer<Traits>>(c, r, eng.get(), &view, p));
  const std::uint64_t full_before = eng->ring_full_count();
  r->measuring.store(true, std::memory_order_relaxed);
  const std::int64_t start_ns = NowNs();
  const std::int64_t end_ns = start_ns + static_cast<std::int64_t>(c.seconds * 1e9);
  std::vector<std::thread> threads;
  for (int p = 0; p < c.producers; ++p)
    threads.emplace_back([&, p] { producers[static_cast<std::size_t>(p)]->Main(CpuFor(c, 1 + p), end_ns); });
  if (progress)
    std::fprintf(progress, "running: %s loop, %d producer(s), %d projector(s), %.1f s\n",
                 c.open_loop() ? "open" : "closed", c.producers, c.projectors, c.seconds);
  r->go.store(true, std::memory_order_release);  // release: setup and construction before the producers start
  if (c.commands_per_producer == 0) {
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(end_ns)));
    r->stop.store(true, std::memory_order_relaxed);
  }
  for (auto& t : threads) t.join();
  std::int64_t finished_ns = start_ns;
  for (auto& p : producers) finished_ns = std::max(finished_ns, p->result().finished_ns);
  report.ring_full = eng->ring_full_count() - full_before;
  const std::uint64_t end_position = eng->committed_position();

  // Let the projectors catch up, then stop everything (the joins order their state before our reads).
  for (auto& t : projectors)
    for (const auto& p : t->projectors()) (void)p->WaitFor(end_position, std::chrono::seconds(120));
  r->measuring.store(false, std::memory_order_relaxed);

  std::int64_t tally = 0;
  std::vector<std::string> producer_notes;  // appended after the projectors stop (they warn into notes)
  for (auto& p : producers) {
    ProducerResult& pr = p->result();
    report.submitted += pr.submitted;
    report.completed += pr.completed;
    report.accepted += pr.accepted;
    report.rejected += pr.rejected;
    report.failed += pr.failed;
    tally += pr.tally;
    report.latency.Merge(pr.latency);
    if (!pr.pin_status.ok()) producer_notes.push_back("producer not pinned: " + pr.pin_status.ToString());
  }
  report.seconds = static_cast<double>(finished_ns - start_ns) / 1e9;
  report.throughput_per_s = report.seconds > 0 ? static_cast<double>(report.completed) / report.seconds : 0;
  report.offered_per_s = c.rate;
  report.events = end_position - setup_position;

  // Projected state (bank: balances of projector 0), before the projectors stop.
  std::optional<std::int64_t> projected;
  if constexpr (std::is_same_v<Traits, BankTraits>) {
    if (!projectors.empty()) {
      const auto* balances = dynamic_cast<const projections::TypedProjector<projections::bank::Balances>*>(
          projectors[0]->projectors()[0].get());
      if (balances != nullptr) {
        std::int64_t sum = 0;
        for (std::uint64_t a = 1; a <= c.accounts; ++a)
          if (auto b = balances->model().Get(a)) sum += b->balance;
        projected = sum;
      }
    }
  }
  for (auto& t : projectors) t->Stop();
  view.Close("the bench is over");
  report.notes.insert(report.notes.end(), producer_notes.begin(), producer_notes.end());
  eng->Stop();

  // Writer-side figures (Stop joined the writer).
  report.stages.ring_wait = std::move(run->writer.ring_wait);
  report.stages.apply = std::move(run->writer.apply);
  report.stages.commit = std::move(run->writer.commit);
  report.stages.projection = std::move(run->projection);
  report.batches = run->writer.batches;
  report.batch_commands = run->writer.batch_commands;
  report.duplicates = run->duplicates.load();
  report.projection_marks_dropped = run->marks_dropped.load();
  if (!run->writer.pin_status.ok()) report.notes.push_back("writer not pinned: " + run->writer.pin_status.ToString());
  report.acknowledged_once = report.duplicates == 0 && report.completed == report.submitted;

  // State checks.
  std::int64_t engine_sum = 0;
  Status each;
  if constexpr (std::is_same_v<Traits, BankTraits>) {
    each = eng->ForEachAggregate(
        [&](std::uint64_t, std::uint64_t, const examples::bank::Account& a) { engine_sum += a.balance; });
    const std::int64_t expected = static_cast<std::int64_t>(c.accounts) * workload.initial_balance + tally;
    report.state_consistent = each.ok() && engine_sum == expected && (!projected || *projected == expected);
    report.check_detail =
        "money: expected " + std::to_string(expected) + ", engine " + std::to_string(engine_sum) +
        (projected ? ", projected " + std::to_string(*projected) : std::string(", no balances projector"));
  } else {
    each = eng->ForEachAggregate(
        [&](std::uint64_t, std::uint64_t, const examples::blog::Post& p) { engine_sum += p.comments; });
    report.state_consistent = each.ok() && engine_sum == tally;
    report.check_detail = "comments: accepted " + std::to_string(tally) + ", engine " + std::to_string(engine_sum);
  }
  if (!each.ok()) report.check_detail += " (" + each.ToString() + ")";

  report.threads = 1 + c.producers + c.projectors + (c.durability == journal::Durability::kNone ? 0 : 1);
  if (report.threads > report.cpus)
    report.notes.push_back(std::to_string(report.threads) + " threads on " + std::to_string(report.cpus) +
                           " CPUs: oversubscribed (threads wait on futexes, none busy-spins for long)");
  return report;
}

}  // namespace

Result<EngineBenchReport> RunEngineBench(const BenchConfig& config, std::FILE* progress) {
  if (std::string why = config.Validate(); !why.empty()) return Status::InvalidArgument(why);
  if (config.dir.empty()) return Status::InvalidArgument("BenchConfig::dir: the journal directory is required");
  std::error_code ec;
  if (fs::exists(config.dir, ec) && !fs::is_empty(config.dir, ec))
    return Status::InvalidArgument(config.dir + " is not empty: the bench journals into a fresh directory");
  if (config.workload == Workload::kBank) return RunTyped<BankTraits>(config, progress);
  return RunTyped<BlogTraits>(config, progress);
}

}  // namespace rill::bench
