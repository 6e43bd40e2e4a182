#include "rill/replication/lease.h"

#include <chrono>
#include <cstdlib>

#include "rill/replication/message_format.h"
#include "rill/replication/nats_client.h"

namespace rill::replication {

namespace {

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Value(const std::string& holder, std::uint64_t epoch) {
  std::string v = holder;
  v.append(" ").append(std::to_string(epoch));
  return v;
}

// "<holder> <epoch>"; Corruption when the key holds something else (not ours to overwrite).
Result<LeaseHolder> Parse(const KvEntry& e) {
  const std::size_t space = e.value.rfind(' ');
  if (space == std::string::npos || space == 0 || space + 1 == e.value.size())
    return Status::Corruption("lease value '" + e.value + "' is not '<holder> <epoch>'");
  LeaseHolder h;
  h.holder = e.value.substr(0, space);
  char* end = nullptr;
  h.epoch = std::strtoull(e.value.c_str() + space + 1, &end, 10);
  if (end == nullptr || *end != '\0') return Status::Corruption("lease value '" + e.value + "': bad epoch");
  h.revision = e.revision;
  return h;
}

}  // namespace

std::string LeaseBucketName(std::string_view app, std::string_view shard) {
  std::string s = StreamName(app, shard);
  s.append("_lease");
  return s;
}

Result<std::unique_ptr<Lease>> Lease::Open(const LeaseOptions& options) {
  RILL_RETURN_IF_ERROR(ValidateNames(options.app, options.shard));
  if (options.ttl_ns < 30'000'000) return Status::InvalidArgument("lease: ttl_ns must be at least 30 ms");
  std::string name = options.client_name;
  if (name.empty()) name.append("rill-lease-").append(options.app).append("-").append(options.shard);
  Result<std::unique_ptr<NatsClient>> client = NatsClient::Connect(options.nats_urls, {.name = name});
  if (!client.ok()) return client.status();
  RILL_RETURN_IF_ERROR(
      (*client)->EnsureBucket(LeaseBucketName(options.app, options.shard), options.replicas, options.ttl_ns));
  return std::unique_ptr<Lease>(new Lease(options, std::move(client).value()));
}

Lease::Lease(LeaseOptions options, std::unique_ptr<NatsClient> client)
    : options_(std::move(options)),
      bucket_(LeaseBucketName(options_.app, options_.shard)),
      client_(std::move(client)) {}

Lease::~Lease() { StopRenewal(); }

Status Lease::TryAcquire(const std::string& holder, std::uint64_t epoch) {
  if (holder.empty() || holder.find(' ') != std::string::npos)
    return Status::InvalidArgument("lease: the holder name must be non-empty without spaces");
  std::lock_guard<std::mutex> lock(mu_);
  Result<std::uint64_t> rev = client_->KvCreate(bucket_, std::string(kLeaseKey), Value(holder, epoch));
  if (!rev.ok() && rev.status().IsFailedPrecondition()) {
    // Held: by ourselves (a restart within the TTL) we may take it back with a CAS.
    Result<KvEntry> e = client_->KvGet(bucket_, std::string(kLeaseKey));
    if (!e.ok()) return e.status().IsNotFound() ? Status::Unavailable("lease: the key expired meanwhile") : e.status();
    Result<LeaseHolder> h = Parse(*e);
    if (!h.ok()) return h.status();
    if (h->holder != holder) {
      std::string m = "lease ";
      m.append(bucket_).append(" is held by ").append(h->holder).append(" (epoch ");
      m.append(std::to_string(h->epoch)).append(")");
      return Status::FailedPrecondition(m);
    }
    rev = client_->KvUpdate(bucket_, std::string(kLeaseKey), Value(holder, epoch), h->revision);
  }
  if (!rev.ok()) return rev.status();
  holder_ = holder;
  epoch_ = epoch;
  revision_ = *rev;
  held_ = true;
  return Status::OK();
}

Status Lease::Put(std::uint64_t epoch) {
  if (!held_) return Status::FailedPrecondition("lease: not held");
  Result<std::uint64_t> rev = client_->KvUpdate(bucket_, std::string(kLeaseKey), Value(holder_, epoch), revision_);
  if (!rev.ok()) {
    // A lost CAS: someone else wrote the key, or it expired (then its revision is gone).
    if (rev.status().IsFailedPrecondition()) held_ = false;
    return rev.status();
  }
  revision_ = *rev;
  epoch_ = epoch;
  return Status::OK();
}

Status Lease::Renew() {
  std::lock_guard<std::mutex> lock(mu_);
  return Put(epoch_);
}

Status Lease::SetEpoch(std::uint64_t epoch) {
  std::lock_guard<std::mutex> lock(mu_);
  return Put(epoch);
}

Result<LeaseHolder> Lease::Holder() {
  Result<KvEntry> e = client_->KvGet(bucket_, std::string(kLeaseKey));
  if (!e.ok()) return e.status();
  return Parse(*e);
}

bool Lease::held() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_;
}

std::uint64_t Lease::epoch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return held_ ? epoch_ : 0;
}

void Lease::StartRenewal(std::function<void(const Status&)> on_loss) {
  StopRenewal();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  renewal_ = std::thread([this, f = std::move(on_loss)]() mutable { RenewLoop(std::move(f)); });
}

void Lease::StopRenewal() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (renewal_.joinable()) renewal_.join();
}

void Lease::RenewLoop(std::function<void(const Status&)> on_loss) {
  const std::int64_t every = options_.ttl_ns / 3;
  std::int64_t last_ok = SteadyNs();
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::nanoseconds(every), [&] { return stop_; });
      if (stop_) return;
    }
    if (paused_for_test_.load()) continue;
    Status s = Renew();
    if (s.ok()) {
      last_ok = SteadyNs();
      continue;
    }
    // Transient trouble (an election in the bucket's stream) is retried until a whole TTL
    // passed without a renewal: by then the key has expired on the servers' clock.
    if (!s.IsFailedPrecondition() && SteadyNs() - last_ok < options_.ttl_ns) continue;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
    }
    if (on_loss) on_loss(s.IsFailedPrecondition() ? s : Status::FailedPrecondition("lease lost: " + s.ToString()));
    return;
  }
}

}  // namespace rill::replication
