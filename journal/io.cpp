#include "rill/journal/io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>

namespace rill::journal::io {
namespace {

// Relaxed: the hook is a function, not data; what it reads (FaultInjector's rules) is guarded
// by its own mutex. A test installs it before it starts the work that makes the calls, so the
// happens-before of starting that work (a thread start, a mutex) already carries it.
std::atomic<Hook> g_hook{nullptr};

// Returns the errno to fail with, or 0 to run the call.
inline int Injected(Call call, const std::string& path) {
  const Hook hook = g_hook.load(std::memory_order_relaxed);
  return hook == nullptr ? 0 : hook(call, path);
}

// FaultInjector's state: static, so a call that loaded the hook just before the injector went
// away still finds valid (empty) state.
struct Rule {
  FaultRule plan;
  std::uint64_t seen = 0;  // matching calls so far
};
struct State {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Rule> rules;
  std::vector<std::pair<Call, std::string>> calls;  // every call seen, in order
  std::uint64_t injected = 0;
  std::vector<std::string> log;
};
State& TheState() {
  static State* s = new State;  // never destroyed: calls may race with static destruction
  return *s;
}

int InjectorHook(Call call, const std::string& path) {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.calls.emplace_back(call, path);
  for (Rule& r : s.rules) {
    if (r.plan.call != call) continue;
    if (!r.plan.path_contains.empty() && path.find(r.plan.path_contains) == std::string::npos) continue;
    const std::uint64_t n = ++r.seen;
    if (n < r.plan.nth || n - r.plan.nth >= r.plan.times) continue;
    ++s.injected;
    s.log.push_back(std::string(CallName(call)) + " " + path + ": " + strerrorname_np(r.plan.error));
    s.cv.notify_all();
    return r.plan.error;
  }
  return 0;
}

}  // namespace

const char* CallName(Call call) noexcept {
  switch (call) {
    case Call::kMsync:
      return "msync";
    case Call::kFdatasync:
      return "fdatasync";
    case Call::kFsync:
      return "fsync";
    case Call::kFsyncDir:
      return "fsync (directory)";
    case Call::kFallocate:
      return "posix_fallocate";
    case Call::kFtruncate:
      return "ftruncate";
    case Call::kRename:
      return "rename";
    case Call::kOpenCreate:
      return "open (create)";
  }
  return "?";
}

int Msync(void* addr, std::size_t length, const std::string& path) {
  if (const int err = Injected(Call::kMsync, path)) return err;
  return ::msync(addr, length, MS_SYNC) == 0 ? 0 : errno;
}

int Fdatasync(int fd, const std::string& path) {
  if (const int err = Injected(Call::kFdatasync, path)) return err;
  return ::fdatasync(fd) == 0 ? 0 : errno;
}

int Fsync(int fd, const std::string& path) {
  if (const int err = Injected(Call::kFsync, path)) return err;
  return ::fsync(fd) == 0 ? 0 : errno;
}

int FsyncDir(int fd, const std::string& path) {
  if (const int err = Injected(Call::kFsyncDir, path)) return err;
  return ::fsync(fd) == 0 ? 0 : errno;
}

int Fallocate(int fd, off_t length, const std::string& path) {
  if (const int err = Injected(Call::kFallocate, path)) return err;
  return ::posix_fallocate(fd, 0, length);  // returns the error; errno is not set
}

int Ftruncate(int fd, off_t length, const std::string& path) {
  if (const int err = Injected(Call::kFtruncate, path)) return err;
  return ::ftruncate(fd, length) == 0 ? 0 : errno;
}

int Rename(const std::string& from, const std::string& to) {
  if (const int err = Injected(Call::kRename, from)) return err;
  return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno;
}

int OpenCreate(const std::string& path, int flags, mode_t mode, int* fd) {
  if (const int err = Injected(Call::kOpenCreate, path)) return err;
  const int f = ::open(path.c_str(), flags | O_CREAT | O_CLOEXEC, mode);
  if (f < 0) return errno;
  *fd = f;
  return 0;
}

void SetHook(Hook hook) noexcept { g_hook.store(hook, std::memory_order_relaxed); }  // relaxed: see g_hook

FaultInjector::FaultInjector() {
  State& s = TheState();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.rules.clear();
    s.calls.clear();
    s.injected = 0;
    s.log.clear();
  }
  SetHook(&InjectorHook);
}

FaultInjector::~FaultInjector() {
  SetHook(nullptr);
  Clear();  // a call that loaded the hook before the line above now matches no rule
}

void FaultInjector::Add(FaultRule rule) {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.rules.push_back(Rule{std::move(rule), 0});
}

void FaultInjector::Clear() {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.rules.clear();
}

std::uint64_t FaultInjector::calls(Call call, const std::string& path_contains) const {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  std::uint64_t n = 0;
  for (const auto& [c, path] : s.calls) n += c == call && path.find(path_contains) != std::string::npos;
  return n;
}

std::uint64_t FaultInjector::injected() const {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.injected;
}

std::vector<std::string> FaultInjector::log() const {
  State& s = TheState();
  std::lock_guard<std::mutex> lock(s.mu);
  return s.log;
}

bool FaultInjector::WaitInjected(std::uint64_t count, std::int64_t timeout_ms) const {
  State& s = TheState();
  std::unique_lock<std::mutex> lock(s.mu);
  return s.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return s.injected >= count; });
}

}  // namespace rill::journal::io
