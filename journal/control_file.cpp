#include "rill/journal/control_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>

#include "rill/base/futex.h"
#include "rill/base/regular_file.h"
#include "rill/journal/io.h"

namespace rill::journal {
namespace {

constexpr std::size_t kControlSize = 4096;
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the control file is shared memory: lock-free only");

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sleeps on `seq` until `pos` reaches target. Invariant kept with Publish(): the waiter
// registers in `waiters` (seq_cst) before re-checking, the publisher bumps `seq` (seq_cst)
// before reading `waiters`; so either the publisher sees the waiter and wakes it, or the
// waiter's futex call sees the new seq and returns at once. No lost wake-up.
// A reader whose mapping is read-only cannot register, so it sleeps in short slices instead.
constexpr std::int64_t kUnregisteredSliceNs = 1'000'000;

bool WaitOn(const std::atomic<std::uint64_t>& pos, const std::atomic<std::uint32_t>& seq,
            std::atomic<std::uint32_t>& waiters, bool can_register, std::uint64_t target, std::int64_t timeout_ns,
            const std::atomic<std::uint32_t>* abort) {
  const std::int64_t deadline = timeout_ns < 0 ? -1 : NowNs() + timeout_ns;
  for (;;) {
    const std::uint32_t seen = seq.load(std::memory_order_acquire);
    if (pos.load(std::memory_order_acquire) >= target) return true;
    if (abort != nullptr && abort->load(std::memory_order_acquire) != 0) return false;
    std::int64_t left = -1;
    if (deadline >= 0) {
      left = deadline - NowNs();
      if (left <= 0) return false;
    }
    if (!can_register) {
      FutexWait(seq, seen, left < 0 || left > kUnregisteredSliceNs ? kUnregisteredSliceNs : left, FutexScope::kShared);
      continue;
    }
    waiters.fetch_add(1, std::memory_order_seq_cst);
    if (pos.load(std::memory_order_seq_cst) < target) FutexWait(seq, seen, left, FutexScope::kShared);
    waiters.fetch_sub(1, std::memory_order_relaxed);
  }
}

void Publish(std::atomic<std::uint64_t>& pos, std::atomic<std::uint32_t>& seq, std::atomic<std::uint32_t>& waiters,
             std::uint64_t value) {
  pos.store(value, std::memory_order_release);  // release: the batch's bytes come before
  seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_seq_cst);  // single writer per word
  if (waiters.load(std::memory_order_seq_cst) != 0) FutexWakeAll(seq, FutexScope::kShared);
}

Result<ControlBlock*> MapControl(const std::string& path, int fd, bool writable) {
  void* p = mmap(nullptr, kControlSize, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (p == MAP_FAILED) return Status::FromErrno("mmap " + path, err);
  return static_cast<ControlBlock*>(p);
}

}  // namespace

Result<RecordedState> ReadRecordedState(const std::string& dir) {
  const std::string path = dir + "/control";
  Result<int> fd = OpenRegularFile(path, O_RDONLY, "control file");
  if (!fd.ok()) return fd.status().IsNotFound() ? Result<RecordedState>(RecordedState{}) : fd.status();
  // pread into plain bytes: the writer is gone (or this is a tool) and the fields are read by offset.
  std::byte buf[sizeof(ControlBlock)] = {};
  const ssize_t n = ::pread(*fd, buf, sizeof buf, 0);
  ::close(*fd);
  RecordedState out;
  if (n != static_cast<ssize_t>(sizeof buf)) return out;  // never initialised (or cut): nothing recorded
  auto u64 = [&](std::size_t off) {
    std::uint64_t v;
    std::memcpy(&v, buf + off, sizeof v);
    return v;
  };
  auto u32 = [&](std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, buf + off, sizeof v);
    return v;
  };
  if (u64(0) != kControlMagic) return out;
  out.present = true;
  out.version = u32(8);
  out.writer_pid = u32(12);
  out.committed = u64(offsetof(ControlBlock, committed_position));
  out.durable = u64(offsetof(ControlBlock, durable_position));
  out.retained_from = out.version >= 2 ? u64(offsetof(ControlBlock, retained_from)) : 0;
  return out;
}

Result<std::unique_ptr<ControlFile>> ControlFile::OpenForWriter(const std::string& dir, std::uint64_t committed,
                                                                std::uint64_t segment_size,
                                                                std::uint64_t retained_from) {
  const std::string path = dir + "/control";
  Result<int> opened = OpenRegularFile(path, O_RDWR | O_CREAT, "control file");
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  // Reused, never recreated: readers that already map it keep seeing the live writer.
  if (const int err = io::Fallocate(fd, kControlSize, path); err != 0) {
    ::close(fd);
    return Status::FromErrno("size control file " + path, err);
  }
  Result<ControlBlock*> block = MapControl(path, fd, true);
  if (!block.ok()) return block.status();
  ControlBlock* b = *block;
  // What the last writer left, before it is overwritten: whether this open lowers a floor.
  const bool was_initialised =
      std::atomic_ref<std::uint64_t>(b->magic).load(std::memory_order_acquire) == kControlMagic;
  const std::uint64_t old_durable = was_initialised ? b->durable_position.load(std::memory_order_relaxed) : 0;
  const std::uint64_t old_retained =
      was_initialised && b->version >= 2 ? b->retained_from.load(std::memory_order_relaxed) : 0;
  b->version = kControlVersion;
  b->writer_pid.store(static_cast<std::uint32_t>(::getpid()), std::memory_order_relaxed);
  b->segment_size = segment_size;
  b->sync_failed.store(0, std::memory_order_relaxed);
  b->committed_position.store(committed, std::memory_order_release);
  b->durable_position.store(committed, std::memory_order_release);  // recovery synced what it kept
  b->retained_from.store(retained_from, std::memory_order_relaxed);
  std::atomic_ref<std::uint64_t>(b->magic).store(kControlMagic, std::memory_order_release);
  std::unique_ptr<ControlFile> control(new ControlFile(b, true, path));
  // A salvage may have lowered the durable floor or moved the retention record: that must reach
  // the disk before the journal grows again, or a power loss could bring back a floor the
  // segments no longer meet (a refusal on the next open). Raising them needs no sync: an older
  // value on disk is a lower bound still (and the sync cost every open ~25 ms: restart/bank).
  if (committed < old_durable || (old_retained != 0 && retained_from != old_retained))
    RILL_RETURN_IF_ERROR(control->SyncPage());
  return control;
}

Status ControlFile::SyncPage() const {
  if (const int err = io::Msync(block_, kControlSize, path_); err != 0)
    return Status::FromErrno("msync control file " + path_, err);
  return Status::OK();
}

Status ControlFile::RecordRetention(std::uint64_t first_kept) {
  block_->retained_from.store(first_kept, std::memory_order_relaxed);  // read by recovery, under the lock
  return SyncPage();
}

Result<std::unique_ptr<ControlFile>> ControlFile::OpenReadOnly(const std::string& dir) {
  const std::string path = dir + "/control";
  // Read-write only so a tailer can register as a waiter (see WaitOn); it writes nothing else.
  bool writable = true;
  Result<int> opened = OpenRegularFile(path, O_RDWR, "control file");
  if (!opened.ok() && opened.status().IsIOError()) {  // EACCES: a reader without write permission
    writable = false;
    opened = OpenRegularFile(path, O_RDONLY, "control file");
  }
  if (!opened.ok()) return opened.status();
  const int fd = *opened;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < kControlSize) {
    ::close(fd);
    return Status::NotFound("control file " + path + " is not initialised yet: open a writer first");
  }
  Result<ControlBlock*> block = MapControl(path, fd, writable);
  if (!block.ok()) return block.status();
  if (std::atomic_ref<std::uint64_t>((*block)->magic).load(std::memory_order_acquire) != kControlMagic) {
    ::munmap(*block, kControlSize);
    return Status::NotFound("control file " + path + " is not initialised yet: open a writer first");
  }
  return std::unique_ptr<ControlFile>(new ControlFile(*block, writable, path));
}

ControlFile::~ControlFile() { ::munmap(block_, kControlSize); }

void ControlFile::PublishCommitted(std::uint64_t position) noexcept {
  Publish(block_->committed_position, block_->commit_seq, block_->commit_waiters, position);
}

void ControlFile::StoreDurableNoWake(std::uint64_t position) noexcept {
  block_->durable_position.store(position, std::memory_order_release);
}

void ControlFile::PublishDurable(std::uint64_t position) noexcept {
  Publish(block_->durable_position, block_->durable_seq, block_->durable_waiters, position);
}

bool ControlFile::WaitCommitted(std::uint64_t target, std::int64_t timeout_ns) const noexcept {
  return WaitOn(block_->committed_position, block_->commit_seq, block_->commit_waiters, can_register_, target,
                timeout_ns, nullptr);
}

bool ControlFile::WaitDurable(std::uint64_t target, std::int64_t timeout_ns) const noexcept {
  return WaitOn(block_->durable_position, block_->durable_seq, block_->durable_waiters, can_register_, target,
                timeout_ns, &block_->sync_failed);
}

}  // namespace rill::journal
