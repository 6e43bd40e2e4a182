#include "rill/projections/projector_thread.h"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <future>
#include <system_error>

#include "rill/base/thread_affinity.h"
#include "rill/engine/event_record.h"

namespace rill::projections {
namespace {

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
std::int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---- Projector --------------------------------------------------------------------------

Status Projector::halt_status() const {
  if (!applied_.halted()) return Status::OK();
  return Status::Unavailable(applied_.halt_reason());
}

Lag Projector::lag() const noexcept {
  Lag lag;
  const std::uint64_t applied = applied_.position();
  const std::uint64_t committed = committed_seen_ ? committed_seen_->load(std::memory_order_relaxed) : applied;
  if (committed > applied) {
    lag.events = committed - applied;
    const std::int64_t ts = last_batch_ts_.load(std::memory_order_relaxed);
    lag.ns = ts > 0 ? std::max<std::int64_t>(0, WallNs() - ts) : 0;
  }
  return lag;
}

std::vector<ParkedEvent> Projector::parked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parked_;
}

Status Projector::RequestRebuild() {
  if (halted()) return Status::InvalidArgument("view '" + name() + "' is halted: " + applied_.halt_reason());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (rebuild_requested_ || progress_.running)
      return Status::InvalidArgument("view '" + name() + "' is already rebuilding; watch rebuild_progress()");
    rebuild_requested_ = true;
    progress_.error.clear();
  }
  if (rebuild_signal_) rebuild_signal_->store(true, std::memory_order_relaxed);
  return Status::OK();
}

RebuildProgress Projector::rebuild_progress() const {
  std::lock_guard<std::mutex> lock(mu_);
  return progress_;
}

bool Projector::Fail(std::uint64_t position, const char* what, const std::string& detail) {
  if (options_.on_failure == FailurePolicy::kSkip) {
    skipped_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
    return true;
  }
  char head[96];
  std::snprintf(head, sizeof head, "cannot apply the event at position %" PRIu64 ": ", position);
  std::string msg = "view '" + name() + "' " + head + what + (detail.empty() ? "" : ": " + detail);
  if (options_.on_failure == FailurePolicy::kPark) {
    std::lock_guard<std::mutex> lock(mu_);
    if (parked_.size() < options_.max_parked) {
      parked_.push_back(ParkedEvent{position, std::move(msg)});
      return true;
    }
    msg += "; the parked list is full (ProjectorOptions::max_parked)";
  }
  local_halted_ = true;
  // Everything before the failing event is applied, and nothing after it ever will be.
  local_applied_ = position - 1;
  last_batch_ts_.store(local_ts_, std::memory_order_relaxed);  // relaxed: informational (lag)
  applied_.Publish(local_applied_);
  msg += "; fix the data or the read model, or choose FailurePolicy::kSkip or kPark, then restart the projector";
  // Before Halt: whoever sees halted() (and returns from WaitFor) then also sees the hook's effects.
  if (options_.on_halted) options_.on_halted(position, msg);
  applied_.Halt(position, std::move(msg));
  return false;
}

void Projector::PublishBatch(std::uint64_t position, std::int64_t timestamp_ns) {
  last_batch_ts_.store(timestamp_ns, std::memory_order_relaxed);  // relaxed: informational (lag)
  applied_.Publish(position);
  if (options_.on_applied) options_.on_applied(position);
}

// ---- ProjectorThread --------------------------------------------------------------------

ProjectorThread::ProjectorThread(ProjectorThreadOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<ProjectorThread>> ProjectorThread::Create(ProjectorThreadOptions options) {
  if (options.registry == nullptr)
    return Status::InvalidArgument("ProjectorThreadOptions::registry is required (the events' schema registry)");
  if (options.journal_directory.empty())
    return Status::InvalidArgument("ProjectorThreadOptions::journal_directory is required");
  if (options.max_batch_events == 0) options.max_batch_events = 1;
  if (options.schema_fingerprint == 0) options.schema_fingerprint = options.registry->fingerprint();
  auto r = journal::JournalReader::Open({.directory = options.journal_directory, .verify_checksums = true});
  if (!r.ok()) return r.status().WithContext("projector thread '" + options.name + "'");
  std::unique_ptr<ProjectorThread> t(new ProjectorThread(std::move(options)));
  t->reader_ = std::move(r).value();
  t->decoder_ = std::make_unique<codecs::Decoder>(*t->options_.registry);
  if (!t->options_.checkpoint_directory.empty()) {
    // Created here, so a missing directory is an error at start-up rather than checkpoints that
    // silently fail to be written (CheckpointWriter only reports at Stop).
    const std::string& dir = t->options_.checkpoint_directory;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir, ec))
      return Status::IOError("projector thread '" + t->options_.name + "': cannot create checkpoint directory '" + dir +
                             "'" + (ec ? ": " + ec.message() : std::string(": not a directory")) +
                             "; fix ProjectorThreadOptions::checkpoint_directory or its permissions, or leave it "
                             "empty to run without checkpoints");
    t->checkpoints_ =
        std::make_unique<CheckpointWriter>(t->options_.checkpoint_directory, t->options_.keep_checkpoints);
  }
  return t;
}

ProjectorThread::~ProjectorThread() { Stop(); }

void ProjectorThread::Adopt(std::unique_ptr<Projector> p) {
  p->committed_seen_ = &committed_seen_;
  p->rebuild_signal_ = &rebuild_signal_;
  projectors_.push_back(std::move(p));
}

void ProjectorThread::Warn(const std::string& msg) const {
  if (options_.warn) {
    options_.warn(msg);
  } else {
    std::fprintf(stderr, "rill: warning: %s\n", msg.c_str());
  }
}

Status ProjectorThread::Start() {
  if (thread_.joinable()) return Status::InvalidArgument("projector thread '" + options_.name + "' already started");
  // The recovered end of the journal: a checkpoint beyond it recorded a position that was
  // lost (DESIGN.md §6) and must not be used.
  std::uint64_t journal_end = 0;
  if (auto segs = reader_->ListSegments(); segs.ok()) {
    for (const auto& s : *segs)
      if (s.last_position >= s.first_position) journal_end = std::max(journal_end, s.last_position);
  }
  std::uint64_t start = UINT64_MAX;
  for (auto& p : projectors_) {
    std::uint64_t pos = 0;
    if (checkpoints_) {
      std::vector<std::string> notes;
      const CheckpointMeta expect{p->name(), p->model_version(), options_.schema_fingerprint, 0};
      auto loaded = LoadNewestCheckpoint(options_.checkpoint_directory, expect, journal_end, &notes);
      for (const auto& n : notes) Warn("view '" + p->name() + "': " + n);
      if (loaded) {
        if (Status s = p->LoadModel(loaded->payload); s.ok()) {
          pos = loaded->position;
        } else {
          Warn("view '" + p->name() + "': checkpoint " + loaded->path + " did not load (" + s.ToString() +
               "); rebuilding from zero");
          p->ResetModel();
        }
      }
    }
    p->local_applied_ = pos;
    p->applied_.Reset(pos);
    p->checkpoint_pos_.store(pos, std::memory_order_relaxed);
    p->last_checkpoint_ns_ = SteadyNs();
    start = std::min(start, pos);
  }
  if (start == UINT64_MAX) start = 0;
  if (start > 0) {
    if (Status s = reader_->SeekToPosition(start + 1); !s.ok())
      return s.WithContext("projector thread '" + options_.name + "': seek to the checkpoints' position");
  }
  consistent_position_.store(start, std::memory_order_relaxed);
  committed_seen_.store(reader_->committed_position(), std::memory_order_relaxed);
  if (options_.counters != nullptr) {
    counters_.clear();
    for (auto& p : projectors_) {
      Result<ProjectorCounters> c = ProjectorCounters::Register(*options_.counters, p->name());
      if (!c.ok()) return c.status().WithContext("projector thread '" + options_.name + "': counters");
      counters_.push_back(*c);
    }
    PublishCounters();
  }

  std::promise<Status> pinned;
  std::future<Status> pin_result = pinned.get_future();
  stop_.store(false, std::memory_order_relaxed);
  thread_ = std::thread([this, &pinned] {
    Status s;
    if (options_.cpu >= 0) s = PinCurrentThread(options_.cpu);
    pinned.set_value(s);  // `pinned` lives until Start has read the future
    Run();
  });
  pin_status_ = pin_result.get();
  if (options_.cpu >= 0) {
    if (pin_status_.ok()) {
      pinned_.store(true, std::memory_order_relaxed);
    } else {
      Warn("projector thread '" + options_.name + "': " + pin_status_.ToString() + "; running unpinned");
    }
  }
  return Status::OK();
}

void ProjectorThread::Stop() {
  if (!thread_.joinable()) return;
  stop_.store(true, std::memory_order_relaxed);
  thread_.join();
  if (checkpoints_) {
    if (Status s = checkpoints_->Flush(); !s.ok()) Warn("projector thread '" + options_.name + "': " + s.ToString());
  }
}

void ProjectorThread::BeginBatch() noexcept {
  batch_seq_.store(batch_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  // Release fence: the odd value is visible before any model write of this batch (SeqlockWords).
  std::atomic_thread_fence(std::memory_order_release);
  in_batch_ = true;
}

void ProjectorThread::EndBatch(std::uint64_t position, std::int64_t timestamp_ns) {
  for (auto& p : projectors_)
    if (p->dirty_ && !p->local_halted_) p->EndModelBatch(p->local_applied_, /*shadow=*/false);
  consistent_position_.store(position, std::memory_order_relaxed);  // ordered by the release below
  // Release: every model write of the batch happens-before a ReadConsistent that sees this.
  batch_seq_.store(batch_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  in_batch_ = false;
  for (auto& p : projectors_) {
    if (!p->dirty_) continue;
    p->dirty_ = false;
    if (!p->local_halted_) p->PublishBatch(p->local_applied_, timestamp_ns);
  }
  committed_seen_.store(reader_->committed_position(), std::memory_order_relaxed);  // relaxed: lag only
  if (!counters_.empty()) PublishCounters();
}

void ProjectorThread::PublishCounters() {
  const std::uint64_t committed = committed_seen_.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < counters_.size(); ++i) {
    Projector& p = *projectors_[i];
    ProjectorSample s;
    s.applied_position = p.local_applied_;
    s.committed_position = committed;
    s.events = p.local_events_;
    s.applied_timestamp_ns = p.last_batch_ts_.load(std::memory_order_relaxed);
    s.state = p.local_halted_ ? ProjectorState::kHalted
                              : (rebuilding_ == &p ? ProjectorState::kRebuilding : ProjectorState::kRunning);
    s.skipped = p.skipped_.load(std::memory_order_relaxed);
    // No lock: only this thread adds to parked_ (Fail), other threads read it under mu_.
    s.parked = p.parked_.size();
    counters_[i].Publish(s);
  }
}

void ProjectorThread::ProcessRecord(const journal::Record& rec) {
  if (rec.type != engine::kEventRecordType) [[unlikely]] {
    // A digest (or another non-event record) holds a position but no event: nothing to apply,
    // yet applied must move past it, or it would never reach committed and WaitFor would hang.
    for (auto& up : projectors_) {
      Projector& p = *up;
      if (p.local_halted_ || rec.position <= p.local_applied_) continue;
      p.dirty_ = true;
      p.local_applied_ = rec.position;
      p.local_ts_ = rec.timestamp_ns;
    }
    return;
  }
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(rec.payload.data()),
                                            rec.payload.size());
  const codecs::DecodeResult r =
      options_.verify ? decoder_->Decode(bytes, rec.position) : decoder_->DecodeTrusted(bytes, rec.position);
  for (auto& up : projectors_) {
    Projector& p = *up;
    if (p.local_halted_ || rec.position <= p.local_applied_) continue;  // halted, or ahead (checkpoint)
    p.dirty_ = true;
    if (!r.ok()) [[unlikely]] {
      if (!p.Fail(rec.position, "the event does not decode", r.error().ToStatus(options_.registry).ToString()))
        continue;
    } else if (const char* err = p.ApplyEvent(r.event(), /*shadow=*/false); err != nullptr) [[unlikely]] {
      if (!p.Fail(rec.position, err, {})) continue;
    }
    p.local_applied_ = rec.position;
    p.local_ts_ = rec.timestamp_ns;
    ++p.events_since_checkpoint_;
    ++p.local_events_;
  }
}

void ProjectorThread::HaltAll(std::uint64_t position, const std::string& why) {
  for (auto& p : projectors_)
    if (!p->local_halted_) p->Fail(position, "the journal cannot be read", why);
}

void ProjectorThread::Run() {
  journal::Record rec;
  std::size_t batch_events = 0;
  std::uint64_t last_pos = 0;
  std::int64_t last_ts = 0;
  bool journal_failed = false;
  while (!stop_.load(std::memory_order_relaxed)) {
    const journal::ReadStatus st = journal_failed ? journal::ReadStatus::kEnd : reader_->Next(&rec);
    if (st == journal::ReadStatus::kRecord) {
      if (!in_batch_) BeginBatch();
      ProcessRecord(rec);
      last_pos = rec.position;
      last_ts = rec.timestamp_ns;
      // Publish at a journal batch end once max_batch_events were applied (or at the end).
      if (++batch_events >= options_.max_batch_events && rec.end_of_batch) {
        EndBatch(last_pos, last_ts);
        batch_events = 0;
        MaybeCheckpoint(false);
        if (rebuilding_ || rebuild_signal_.load(std::memory_order_relaxed)) RebuildStep();
      }
      continue;
    }
    if (in_batch_) {
      EndBatch(last_pos, last_ts);
      batch_events = 0;
    }
    if (st == journal::ReadStatus::kError) {
      // Corruption before the committed end: every projector stops here, naming the position.
      HaltAll(reader_->next_position(), reader_->error().ToString());
      journal_failed = true;
    }
    committed_seen_.store(reader_->committed_position(), std::memory_order_relaxed);
    if (!counters_.empty()) PublishCounters();  // idle or halted: the lag still moves
    MaybeCheckpoint(false);
    if (rebuilding_ || rebuild_signal_.load(std::memory_order_relaxed)) {
      if (RebuildStep()) continue;  // the shadow catches up without sleeping
    }
    if (journal_failed) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(options_.idle_wait_ns));
    } else {
      reader_->WaitForCommit(options_.idle_wait_ns);
    }
  }
  if (in_batch_) EndBatch(last_pos, last_ts);
  if (rebuilding_) {
    rebuilding_->DropShadow();
    std::lock_guard<std::mutex> lock(rebuilding_->mu_);
    rebuilding_->progress_.running = false;
    rebuilding_->progress_.error = "stopped before the shadow copy caught up";
    rebuilding_ = nullptr;
  }
  MaybeCheckpoint(true);
}

void ProjectorThread::MaybeCheckpoint(bool force) {
  if (!checkpoints_) return;
  const std::uint64_t durable = reader_->durable_position();
  const std::int64_t now = SteadyNs();
  for (auto& up : projectors_) {
    Projector& p = *up;
    const std::uint64_t pos = p.local_applied_;
    if (p.local_halted_ || pos == p.checkpoint_pos_.load(std::memory_order_relaxed)) continue;
    // Never record a position the journal could still lose (DESIGN.md §6): wait for durability.
    if (pos > durable) continue;
    if (!force && (p.events_since_checkpoint_ < options_.checkpoint_every_events ||
                   now - p.last_checkpoint_ns_ < options_.checkpoint_min_interval_ns))
      continue;
    std::vector<std::byte> buf = checkpoints_->Recycle();
    p.SaveModel(buf);  // the one copy on this thread; the disk write happens on the helper
    checkpoints_->Submit(CheckpointMeta{p.name(), p.model_version(), options_.schema_fingerprint, pos}, std::move(buf));
    p.checkpoint_pos_.store(pos, std::memory_order_relaxed);  // relaxed: informational
    p.events_since_checkpoint_ = 0;
    p.last_checkpoint_ns_ = now;
  }
}

bool ProjectorThread::RebuildStep() {
  if (rebuilding_ == nullptr) {
    rebuild_signal_.store(false, std::memory_order_relaxed);
    for (auto& up : projectors_) {
      std::lock_guard<std::mutex> lock(up->mu_);
      if (!up->rebuild_requested_) continue;
      up->rebuild_requested_ = false;
      if (up->local_halted_) {
        up->progress_.error = "halted";
        continue;
      }
      if (rebuilding_ != nullptr) {  // one at a time; look again after this one
        up->rebuild_requested_ = true;
        rebuild_signal_.store(true, std::memory_order_relaxed);
        continue;
      }
      auto r = journal::JournalReader::Open({.directory = options_.journal_directory, .verify_checksums = true});
      if (!r.ok()) {
        up->progress_.error = r.status().ToString();
        continue;
      }
      rebuild_reader_ = std::move(r).value();
      rebuild_decoder_ = std::make_unique<codecs::Decoder>(*options_.registry);
      up->NewShadow();
      rebuilding_ = up.get();
      rebuild_pos_ = 0;
      up->progress_ = RebuildProgress{
          .running = true, .position = 0, .target = up->local_applied_, .swaps = up->progress_.swaps, .error = {}};
    }
    if (rebuilding_ == nullptr) return false;
  }
  const std::uint64_t before = rebuild_pos_;
  Projector& p = *rebuilding_;
  std::string abandon;
  journal::Record rec;
  for (std::size_t n = 0; rebuild_pos_ < p.local_applied_ && n < options_.max_batch_events; ++n) {
    const journal::ReadStatus st = rebuild_reader_->Next(&rec);
    if (st == journal::ReadStatus::kEnd) break;
    if (st == journal::ReadStatus::kError) {
      abandon = rebuild_reader_->error().ToString();
      break;
    }
    if (rec.type != engine::kEventRecordType) {  // not an event (a digest): only its position counts
      rebuild_pos_ = rec.position;
      if (rec.end_of_batch) p.EndModelBatch(rebuild_pos_, /*shadow=*/true);
      continue;
    }
    const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(rec.payload.data()),
                                              rec.payload.size());
    const codecs::DecodeResult r = rebuild_decoder_->Decode(bytes, rec.position);
    const char* err = r.ok() ? p.ApplyEvent(r.event(), /*shadow=*/true) : "the event does not decode";
    if (err != nullptr && p.options_.on_failure == FailurePolicy::kHalt) {
      abandon = "the event at position " + std::to_string(rec.position) + " fails: " + err;
      break;
    }
    rebuild_pos_ = rec.position;  // skip / park: as the live copy did (it parked it already)
    if (rec.end_of_batch) p.EndModelBatch(rebuild_pos_, /*shadow=*/true);
  }
  const bool caught_up = abandon.empty() && rebuild_pos_ == p.local_applied_;
  if (caught_up) {
    p.EndModelBatch(rebuild_pos_, /*shadow=*/true);
    // The swap in an odd window, so a consistent read sees all models before or after it.
    BeginBatch();
    p.SwapShadow();
    batch_seq_.store(batch_seq_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    in_batch_ = false;
  }
  std::lock_guard<std::mutex> lock(p.mu_);
  p.progress_.position = rebuild_pos_;
  p.progress_.target = p.local_applied_;
  if (caught_up || !abandon.empty()) {
    if (!abandon.empty()) {
      p.DropShadow();
      p.progress_.error = "rebuild of view '" + p.name() + "' abandoned, the live copy stays: " + abandon;
    } else {
      ++p.progress_.swaps;
    }
    p.progress_.running = false;
    rebuilding_ = nullptr;
    rebuild_reader_.reset();
    rebuild_decoder_.reset();
    return true;
  }
  return rebuild_pos_ != before;
}

}  // namespace rill::projections
