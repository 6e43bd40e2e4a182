#include "rill/replication/standby.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "rill/journal/tail_aside.h"
#include "rill/replication/message_format.h"
#include "rill/replication/nats_stream_port.h"
#include "rill/replication/reconcile.h"

namespace rill::replication {

namespace {

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool IsTransient(const Status& s) { return s.IsUnavailable() || s.IsTimedOut(); }

}  // namespace

const char* NodeRoleName(NodeRole r) noexcept {
  switch (r) {
    case NodeRole::kStarting:
      return "starting";
    case NodeRole::kStandby:
      return "standby";
    case NodeRole::kWriter:
      return "writer";
    case NodeRole::kStopped:
      return "stopped";
  }
  return "?";
}

class Node::Impl {
 public:
  explicit Impl(NodeOptions o) : opt_(std::move(o)) {}
  void Launch() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void PauseRenewal() {
    std::lock_guard<std::mutex> lock(mu_);
    renewal_paused_ = true;
    if (lease_) lease_->SetRenewalPausedForTest(true);
  }

  mutable std::mutex mu_;  // guards everything below up to thread_, and lease_ (the pointer)
  mutable std::condition_variable cv_;
  bool stop_ = false;
  bool renewal_paused_ = false;
  NodeRole role_ = NodeRole::kStarting;
  std::uint64_t epoch_ = 0;
  Status final_;
  std::string state_ = "starting";
  std::vector<ReconcileReport> reconciles_;
  std::vector<TakeoverReport> takeovers_;

 private:
  void Run();
  Status Connect();
  Status Reconcile(bool* in_place);
  struct StreamLast {  // the stream's last message (seq 0: the stream is empty)
    std::uint64_t seq = 0;
    std::string msg_id;
    MessageHeaders headers;
  };
  Status ReadLast(StreamLast* out);
  Status BecomeWriter(bool from_standby, std::int64_t free_ns);
  Status StoreFence(bool from_standby, std::uint64_t* epoch, std::uint64_t* stream_end);
  Status WaitFenceAck(std::uint64_t token, PublishAck* ack, bool* have);
  Status StandbyLoop(bool* take_over);
  Status WriterLoop();
  void LeaveWriter();
  Status StartFollower();
  void Set(NodeRole role, std::uint64_t epoch, std::string state);
  bool Sleep(std::int64_t ns);  // false when stopping
  bool stopping() {
    std::lock_guard<std::mutex> lock(mu_);
    return stop_;
  }

  const NodeOptions opt_;
  std::thread thread_;
  std::unique_ptr<StreamPort> port_;  // the control thread's
  std::unique_ptr<Lease> lease_;
  std::unique_ptr<Follower> follower_;
  std::unique_ptr<Replicator> replicator_;
  bool writer_open_ = false;
  std::atomic<bool> lease_lost_{false};
  std::uint64_t reconciled_last_seq_ = 0;  // the stream's last seq the last Reconcile compared
  std::uint64_t fence_token_ = 0;          // tokens of fence publishes on port_
  std::uint32_t fence_attempts_ = 0;       // of the last StoreFence
  std::string writer_end_;                 // why WriterLoop returned (TakeoverReport::ended)
};

void Node::Impl::Run() {
  Status s;
  while (!stopping()) {
    s = Connect();
    bool in_place = false;
    if (follower_) follower_->Stop();  // a lost race for the lease: its journal must be free
    follower_.reset();
    if (s.ok()) s = Reconcile(&in_place);
    if (s.ok() && in_place) s = BecomeWriter(false, SteadyNs());
    if (s.ok() && !in_place) {
      bool take_over = false;
      s = StandbyLoop(&take_over);
      if (s.ok() && take_over) s = BecomeWriter(true, SteadyNs());
    }
    if (s.ok() && writer_open_) s = WriterLoop();
    if (writer_open_ || replicator_) LeaveWriter();
    if (s.ok() || s.IsFailedPrecondition()) continue;  // a lost race for the lease: look again
    if (!IsTransient(s)) break;
    Set(NodeRole::kStarting, 0, "retrying: " + s.ToString());
    Sleep(opt_.poll_interval_ns);
    s = Status::OK();
  }
  if (follower_) follower_->Stop();
  follower_.reset();
  if (lease_) lease_->StopRenewal();
  std::lock_guard<std::mutex> lock(mu_);
  final_ = s;
  role_ = NodeRole::kStopped;
  state_ = s.ok() ? "stopped" : "stopped: " + s.ToString();
  cv_.notify_all();
}

Status Node::Impl::Connect() {
  if (!port_) {
    NatsPortConfig c;
    c.urls = opt_.nats_urls;
    c.client_name = "rill-node-" + opt_.holder;
    c.app = opt_.app;
    c.shard = opt_.shard;
    c.replicas = opt_.replicas;
    std::unique_ptr<StreamPort> port = MakeNatsStreamPort(c);
    RILL_RETURN_IF_ERROR(port->Connect());
    port_ = std::move(port);
  }
  if (!lease_) {
    LeaseOptions lo{.nats_urls = opt_.nats_urls,
                    .app = opt_.app,
                    .shard = opt_.shard,
                    .ttl_ns = opt_.lease_ttl_ns,
                    .replicas = opt_.replicas,
                    .client_name = "rill-lease-" + opt_.holder};
    Result<std::unique_ptr<Lease>> lease = Lease::Open(lo);
    if (!lease.ok()) return lease.status();
    std::lock_guard<std::mutex> lock(mu_);
    lease_ = std::move(lease).value();
    if (renewal_paused_) lease_->SetRenewalPausedForTest(true);
  }
  return Status::OK();
}

// SCALE-OUT 3c "the old writer": restart in place, or move the tail the stream does not hold
// aside and follow.
Status Node::Impl::Reconcile(bool* in_place) {
  *in_place = false;
  Result<JournalVsStream> c = CompareJournalWithStream(*port_, opt_.directory);
  if (!c.ok()) return c.status();
  reconciled_last_seq_ = c->stream_last_seq;
  Result<LeaseHolder> holder = lease_->Holder();
  if (!holder.ok() && !holder.status().IsNotFound()) return holder.status();
  const bool lease_ok = !holder.ok() || holder->holder == opt_.holder;
  ReconcileReport r;
  r.stream_end = c->stream_end;
  r.local_end = c->local_end;
  r.kept_through = c->local_end;
  if (!c->local_exists) {
    r.why = "no local journal: following the stream";
  } else if (c->stream_is_prefix && lease_ok) {
    r.in_place = true;
    *in_place = true;
    r.why = "the stream is a prefix of the local journal and the lease is free or ours: restart in place";
  } else {
    r.why = lease_ok ? "the stream holds positions the local journal does not have equal"
                     : "the lease is held by " + holder->holder;
    if (c->common_end < c->local_end) {
      Result<journal::TailAsideReport> moved = journal::MoveTailAside(opt_.directory, c->common_end);
      if (!moved.ok()) return moved.status().WithContext("reconcile: moving the tail aside");
      r.kept_through = moved->kept_through;
      r.first_moved = moved->first_position_moved;
      r.last_moved = moved->last_position_moved;
      r.aside_directory = moved->aside_directory;
      r.why.append(": positions ").append(std::to_string(r.first_moved)).append("..");
      r.why.append(std::to_string(r.last_moved)).append(" moved to ").append(r.aside_directory);
    }
    r.why.append("; following");
  }
  std::lock_guard<std::mutex> lock(mu_);
  reconciles_.push_back(std::move(r));
  return Status::OK();
}

Status Node::Impl::StartFollower() {
  FollowerOptions fo = opt_.follower;
  fo.directory = opt_.directory;
  fo.nats_urls = opt_.nats_urls;
  fo.app = opt_.app;
  fo.shard = opt_.shard;
  if (fo.client_name.empty()) fo.client_name = "rill-follower-" + opt_.holder;
  Result<std::unique_ptr<Follower>> f = Follower::Start(fo);
  if (!f.ok()) return f.status();
  follower_ = std::move(f).value();
  return Status::OK();
}

// Follows until the lease is free (or names this holder: a writer of ours that was fenced).
Status Node::Impl::StandbyLoop(bool* take_over) {
  *take_over = false;
  if (!follower_) {
    RILL_RETURN_IF_ERROR(StartFollower());
    if (opt_.on_standby) opt_.on_standby(opt_.directory);
  }
  Set(NodeRole::kStandby, 0, "standby: following");
  while (Sleep(opt_.poll_interval_ns)) {
    if (Status f = follower_->final_error(); !f.ok()) return f.WithContext("standby: the follower stopped");
    Result<LeaseHolder> h = lease_->Holder();
    if (h.ok() && h->holder != opt_.holder) continue;
    if (!h.ok() && !h.status().IsNotFound()) continue;  // transient: ask again
    *take_over = true;
    return Status::OK();
  }
  return Status::OK();
}

Status Node::Impl::ReadLast(StreamLast* out) {
  *out = StreamLast{};
  Result<TailInfo> tail = port_->Tail();
  if (!tail.ok()) return tail.status();
  if (tail->last_seq == 0) return Status::OK();
  Result<ShippedMessage> last = port_->Get(tail->last_seq);
  if (!last.ok()) return last.status();
  RILL_RETURN_IF_ERROR(CheckPayload(last->headers, last->bytes.size()));
  out->seq = last->seq;
  out->msg_id = std::move(last->msg_id);
  out->headers = last->headers;
  return Status::OK();
}

Status Node::Impl::BecomeWriter(bool from_standby, std::int64_t free_ns) {
  StreamLast last;
  RILL_RETURN_IF_ERROR(ReadLast(&last));
  std::uint64_t epoch = last.headers.epoch + 1;  // a fence carries its epoch: the next takeover gets one more
  RILL_RETURN_IF_ERROR(lease_->TryAcquire(opt_.holder, epoch));
  // Renew from now on: storing the fence and catching up may take longer than the TTL.
  lease_lost_.store(false);
  lease_->StartRenewal([this](const Status&) {
    lease_lost_.store(true);
    cv_.notify_all();
  });
  std::uint64_t stream_end = 0;
  Status s = StoreFence(from_standby, &epoch, &stream_end);
  if (s.ok() && from_standby) {
    // The stream up to the fence is fixed now (nothing can be appended before it): apply it.
    const std::int64_t until = SteadyNs() + opt_.catch_up_timeout_ns;
    for (;;) {
      Status w = follower_->WaitApplied(stream_end, 100'000'000);
      if (w.ok()) break;
      if (!w.IsTimedOut()) {
        s = w.WithContext("takeover: the follower stopped");
        break;
      }
      if (stopping()) {
        s = Status::Unavailable("takeover: stopping");
        break;
      }
      if (SteadyNs() > until) {
        s = w.WithContext("takeover: catching up");
        break;
      }
    }
    if (s.ok()) {
      follower_->Stop();
      follower_.reset();
    }
  }
  if (!s.ok()) {
    lease_->StopRenewal();  // the key expires unless the next attempt takes it again
    return s;
  }
  ReplicatorOptions ro = opt_.replicator;
  ro.journal_directory = opt_.directory;
  ro.nats_urls = opt_.nats_urls;
  ro.app = opt_.app;
  ro.shard = opt_.shard;
  ro.epoch = epoch;
  ro.replicas = opt_.replicas;
  if (ro.client_name.empty()) ro.client_name = "rill-replicator-" + opt_.holder;
  Result<std::unique_ptr<Replicator>> rep = Replicator::Start(ro);
  if (!rep.ok()) {
    lease_->StopRenewal();
    return Status::Corruption("takeover: " + rep.status().ToString());  // final
  }
  replicator_ = std::move(rep).value();
  if (Status o = opt_.open_writer(opt_.directory, replicator_.get()); !o.ok())
    return Status::Corruption("open_writer: " + o.ToString());  // final: the caller's writer refused
  writer_open_ = true;
  TakeoverReport t;
  t.epoch = epoch;
  t.from_standby = from_standby;
  t.lease_free_ns = free_ns;
  t.writer_open_ns = SteadyNs();
  t.stream_end = stream_end;
  t.fence_attempts = fence_attempts_;
  {
    std::lock_guard<std::mutex> lock(mu_);
    takeovers_.push_back(t);
  }
  Set(NodeRole::kWriter, epoch, "writer, epoch " + std::to_string(epoch));
  return Status::OK();
}

// The fence (message_format.h): this epoch's zero-record message, stored right after the
// stream's current last message with both expectations, so that whoever wrote that message (a
// zombie old writer) is refused at its next publish, and so is every writer of an older epoch.
// Refused because someone appended meanwhile: read the tail again and retry, until
// catch_up_timeout. Nothing of this epoch is on the stream before the fence, so nothing is
// undone. *stream_end = the last position before the fence (0: empty stream, no fence).
// The fence is stored from the tail as read, not after the follower caught up: the window a
// zombie can slip into is then one round trip, not the follower's apply latency.
Status Node::Impl::StoreFence(bool from_standby, std::uint64_t* epoch, std::uint64_t* stream_end) {
  const std::int64_t until = SteadyNs() + opt_.catch_up_timeout_ns;
  fence_attempts_ = 0;
  std::string why;
  for (;;) {
    if (stopping()) return Status::Unavailable("takeover: stopping");
    if (lease_lost_.load()) return Status::FailedPrecondition("takeover: the lease was lost while fencing");
    StreamLast last;
    RILL_RETURN_IF_ERROR(ReadLast(&last));
    const MessageHeaders& h = last.headers;
    if (last.seq == 0) {
      // JetStream cannot expect an empty stream (last sequence 0 = no expectation): no fence.
      if (!from_standby && reconciled_last_seq_ != 0)
        return Status::FailedPrecondition("restart in place: the stream changed since reconciling");
      *stream_end = 0;
      return Status::OK();
    }
    if (h.fence() && h.epoch == *epoch && last.msg_id == FenceMsgId(opt_.app, opt_.shard, *epoch)) {
      *stream_end = h.first_position - 1;  // ours: an earlier attempt whose ack did not come back
      return Status::OK();
    }
    if (!from_standby && last.seq != reconciled_last_seq_) {
      // Restarting in place rests on the comparison Reconcile made with that tail.
      std::string m = "restart in place: the stream's last seq was ";
      m.append(std::to_string(reconciled_last_seq_)).append(" when reconciling, now ").append(std::to_string(last.seq));
      return Status::FailedPrecondition(m);
    }
    if (h.epoch >= *epoch) {  // a writer of a later epoch appended: never reuse an epoch
      *epoch = h.epoch + 1;
      RILL_RETURN_IF_ERROR(lease_->SetEpoch(*epoch));
    }
    const MessageHeaders fence{
        .first_position = h.end(), .count = 0, .epoch = *epoch, .schema_fingerprint = h.schema_fingerprint};
    const std::string id = FenceMsgId(opt_.app, opt_.shard, *epoch);
    const std::uint64_t token = ++fence_token_;
    ++fence_attempts_;
    PublishAck ack;
    bool have = false;
    Status s = port_->Publish(id, fence, {}, last.seq, last.msg_id, token);
    if (s.ok()) s = WaitFenceAck(token, &ack, &have);
    if (s.ok() && have && ack.ok) {
      if (!ack.duplicate) {
        *stream_end = h.end() - 1;
        return Status::OK();
      }
      // Our msg-id is stored already (an earlier attempt's ack was lost): it must be our fence.
      Result<ShippedMessage> stored = port_->Get(ack.seq);
      if (!stored.ok()) return stored.status();
      if (!stored->headers.fence() || stored->headers.epoch != *epoch) {
        std::string m = "takeover: msg-id ";
        m.append(id).append(" is stored at seq ").append(std::to_string(ack.seq)).append(" but is not this fence");
        return Status::Corruption(m);
      }
      *stream_end = stored->headers.first_position - 1;
      return Status::OK();
    }
    const bool appended = s.ok() && have && ack.error == AckError::kWrongLastSequence;
    if (!s.ok()) {
      why = s.ToString();
    } else if (!have) {
      why = "no ack";
      port_->AbandonInFlight();
    } else {
      why = ack.text;
    }
    if (SteadyNs() > until) {
      std::string m = "takeover: the fence of epoch ";
      m.append(std::to_string(*epoch)).append(" was not stored within catch_up_timeout (");
      m.append(std::to_string(fence_attempts_)).append(" attempts; last: ").append(why).append(")");
      return Status::TimedOut(m);
    }
    // Someone appended after the tail we read (a zombie): read it again at once. Anything else
    // (an election, a lost connection): a short pause.
    if (!appended) Sleep(std::min<std::int64_t>(opt_.poll_interval_ns, 50'000'000));
  }
}

Status Node::Impl::WaitFenceAck(std::uint64_t token, PublishAck* ack, bool* have) {
  *have = false;
  const std::int64_t until = SteadyNs() + opt_.replicator.ack_timeout_ns;
  std::vector<PublishAck> acks;
  while (SteadyNs() < until && !stopping()) {
    acks.clear();
    port_->PollAcks(&acks, 10'000'000);
    for (PublishAck& a : acks) {
      if (a.token != token) continue;  // a late ack of an abandoned attempt
      *ack = std::move(a);
      *have = true;
      return Status::OK();
    }
  }
  return Status::OK();
}

// Writes until fenced or the lease is lost; then the caller reconciles.
Status Node::Impl::WriterLoop() {
  while (Sleep(opt_.poll_interval_ns / 2)) {
    if (Status f = replicator_->final_error(); !f.ok()) {
      writer_end_ = f.ToString();
      if (f.IsFailedPrecondition()) return Status::OK();  // fenced: reconcile, follow
      return f.WithContext("writer: the replicator stopped");
    }
    if (lease_lost_.load()) {
      writer_end_ = "the lease was lost";
      return Status::OK();
    }
  }
  writer_end_ = "stopped";
  return Status::OK();
}

void Node::Impl::LeaveWriter() {
  const bool was_open = writer_open_;
  if (writer_open_ && opt_.close_writer) opt_.close_writer();
  writer_open_ = false;
  if (was_open) {
    // The lease loss may be seen before the replicator's refused publish (a zombie resumed):
    // the replicator's verdict, once the writer closed, says whether it was fenced too.
    std::string why = writer_end_.empty() ? "stopped" : writer_end_;
    if (Status f = replicator_ ? replicator_->final_error() : Status::OK(); !f.ok() && why != f.ToString())
      why.append("; the replicator: ").append(f.ToString());
    std::lock_guard<std::mutex> lock(mu_);
    if (!takeovers_.empty()) takeovers_.back().ended = std::move(why);
  }
  writer_end_.clear();
  if (replicator_) replicator_->Stop();
  replicator_.reset();
  lease_->StopRenewal();
  lease_lost_.store(false);
  Set(NodeRole::kStarting, 0, "left the writer role");
}

void Node::Impl::Set(NodeRole role, std::uint64_t epoch, std::string state) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    role_ = role;
    epoch_ = epoch;
    state_ = std::move(state);
  }
  cv_.notify_all();
}

bool Node::Impl::Sleep(std::int64_t ns) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::nanoseconds(ns), [&] { return stop_ || lease_lost_.load(); });
  return !stop_;
}

Result<std::unique_ptr<Node>> Node::Start(const NodeOptions& options) {
  RILL_RETURN_IF_ERROR(ValidateNames(options.app, options.shard));
  if (options.directory.empty() || options.holder.empty() || options.holder.find(' ') != std::string::npos)
    return Status::InvalidArgument("node: directory and holder (no spaces) are required");
  if (!options.open_writer || !options.close_writer)
    return Status::InvalidArgument("node: open_writer and close_writer are required");
  if (options.poll_interval_ns <= 0) return Status::InvalidArgument("node: poll_interval_ns must be > 0");
  auto impl = std::make_unique<Impl>(options);
  impl->Launch();
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Node::~Node() { Stop(); }
void Node::Stop() { impl_->Stop(); }
void Node::PauseLeaseRenewalForTest() { impl_->PauseRenewal(); }

NodeRole Node::role() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->role_;
}
std::uint64_t Node::epoch() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->epoch_;
}
Status Node::final_error() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->final_;
}
std::string Node::state() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->state_;
}
std::vector<ReconcileReport> Node::reconciles() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->reconciles_;
}
std::vector<TakeoverReport> Node::takeovers() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->takeovers_;
}

Status Node::WaitRole(NodeRole role, std::int64_t timeout_ns) const {
  std::unique_lock<std::mutex> lock(impl_->mu_);
  impl_->cv_.wait_for(lock, std::chrono::nanoseconds(timeout_ns),
                      [&] { return impl_->role_ == role || impl_->role_ == NodeRole::kStopped; });
  if (impl_->role_ == role) return Status::OK();
  if (!impl_->final_.ok()) return impl_->final_;
  return Status::TimedOut("node: not " + std::string(NodeRoleName(role)) + " in time (" + impl_->state_ + ")");
}

}  // namespace rill::replication
