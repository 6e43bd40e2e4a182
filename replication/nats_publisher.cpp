// rill/replication/nats_publisher.cpp: AsyncPublisher (pipelined JetStream publishes whose
// acks are queued for the owner) and OrderedSubscription, over cnats.
//
// Implementation: each publisher has its own jsCtx, whose PublishAsync.AckHandler runs on a
// cnats thread. In-flight publishes are keyed by their natsMsg* (alive until the handler
// returns, so never reused while an ack for it may still be delivered), not by msg-id: the owner
// resends the same msg-id after AbandonAll, and a late ack of the old copy must not complete
// the new one. The handler's closure is a registry id, not a pointer, so a handler that cnats
// is delivering while the publisher is destroyed finds nothing instead of freed memory.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <unordered_map>

#include "rill/replication/nats_client.h"
#include "rill/replication/nats_internal.h"

namespace rill::replication {

using nats_detail::FromNats;
using nats_detail::ToMillis;

namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct AsyncPublisher::Impl {
  struct Entry {
    std::uint64_t token;
    std::uint64_t order;  // publish order, to return abandoned tokens in it
    std::int64_t sent_ns;
  };

  NatsClient::Impl* client = nullptr;
  jsCtx* js = nullptr;
  std::function<void()> wake;
  std::uintptr_t id = 0;  // in the registry below

  mutable std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<natsMsg*, Entry> in_flight;  // guarded by mu
  std::deque<PublishCompletion> done;             // guarded by mu
  std::uint64_t next_order = 0;                   // owner thread only
  bool published = false;                         // owner thread only: see AbandonAll

  void OnAck(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae);
};

namespace {

// Live publishers by id. A handler holds registry_mu for its whole run, so once the destructor
// has removed its id no handler can be inside that publisher.
std::mutex registry_mu;
std::unordered_map<std::uintptr_t, AsyncPublisher::Impl*> registry;
std::uintptr_t next_id = 1;

void AckHandler(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  {
    std::lock_guard lock(registry_mu);
    auto it = registry.find(reinterpret_cast<std::uintptr_t>(closure));
    if (it != registry.end()) it->second->OnAck(msg, pa, pae);
  }
  natsMsg_Destroy(msg);  // ours, per cnats' AckHandler contract
}

}  // namespace

void AsyncPublisher::Impl::OnAck(natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae) {
  {
    std::lock_guard lock(mu);
    auto it = in_flight.find(msg);
    if (it == in_flight.end()) return;  // abandoned: its token was handed back by AbandonAll
    PublishCompletion c;
    c.token = it->second.token;
    in_flight.erase(it);
    if (pa != nullptr) {
      c.ok = true;
      c.seq = pa->Sequence;
      c.duplicate = pa->Duplicate;
    } else if (pae != nullptr) {
      c.js_error_code = static_cast<int>(pae->ErrCode);
      c.error = nats_detail::Classify(pae->Err, c.js_error_code);
      if (c.error == PublishError::kNone) c.error = PublishError::kOther;
      c.text = natsStatus_GetText(pae->Err);
      if (pae->ErrText != nullptr) c.text.append(": ").append(pae->ErrText);
      if (c.js_error_code != 0) c.text.append(" (JetStream error ").append(std::to_string(c.js_error_code)).append(")");
    } else {
      c.error = PublishError::kOther;
      c.text = "ack with neither result nor error";
    }
    done.push_back(std::move(c));
  }
  cv.notify_all();
  if (wake) wake();
}

AsyncPublisher::AsyncPublisher(NatsClient& client, Options options)
    : window_(std::max<std::size_t>(1, options.window)), impl_(std::make_unique<Impl>()) {
  impl_->client = client.impl();
  impl_->wake = std::move(options.wake);
  {
    std::lock_guard lock(registry_mu);
    impl_->id = next_id++;
    registry.emplace(impl_->id, impl_.get());
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ToMillis(impl_->client->options.request_timeout_ns);
  // Our window is the limit; cnats' own (which would block Publish) is never reached.
  jo.PublishAsync.MaxPending = static_cast<std::int64_t>(window_) * 4 + 16;
  jo.PublishAsync.AckHandler = &AckHandler;
  jo.PublishAsync.AckHandlerClosure = reinterpret_cast<void*>(impl_->id);
  jo.PublishAsync.StallWait = 1;
  if (natsConnection_JetStream(&impl_->js, impl_->client->nc, &jo) != NATS_OK) impl_->js = nullptr;
}

AsyncPublisher::~AsyncPublisher() {
  if (impl_->js != nullptr) (void)AbandonAll();
  {
    std::lock_guard lock(registry_mu);
    registry.erase(impl_->id);
  }
  jsCtx_Destroy(impl_->js);
}

Status AsyncPublisher::Publish(const std::string& subject, const std::string& msg_id, std::uint64_t expected_last_seq,
                               const NatsHeaders& headers, std::span<const std::byte> bytes, std::uint64_t token) {
  if (impl_->js == nullptr) return Status::Unavailable("no JetStream context (creating it failed)");
  // Not while reconnecting either: cnats would buffer the message, and its ack could only come
  // after the owner's ack timeout; refused now, the owner's retry says why.
  // (The status first: no message text built per publish while connected.)
  if (natsConnection_Status(impl_->client->nc) != NATS_CONN_STATUS_CONNECTED)
    return nats_detail::CheckConnected(*impl_->client, "publishing to " + subject);
  Status built;
  natsMsg* msg = nats_detail::BuildMessage(subject, headers, bytes, &built);
  if (msg == nullptr) return built;
  natsMsg* key = msg;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->in_flight.size() >= window_) {
      natsMsg_Destroy(msg);
      return Status::Unavailable("publish window full (" + std::to_string(window_) + " in flight)");
    }
    // Registered before sending: the ack may arrive before js_PublishMsgAsync returns.
    impl_->in_flight.emplace(key, Impl::Entry{token, impl_->next_order++, NowNs()});
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  if (!msg_id.empty()) po.MsgId = msg_id.c_str();
  po.ExpectLastSeq = expected_last_seq;
  natsStatus s = js_PublishMsgAsync(impl_->js, &msg, &po);  // takes msg (sets it to NULL) on success
  if (s != NATS_OK) {
    {
      std::lock_guard lock(impl_->mu);
      impl_->in_flight.erase(key);
    }
    natsMsg_Destroy(msg);
    return FromNats(s, "publishing to " + subject);
  }
  impl_->published = true;
  return Status::OK();
}

std::size_t AsyncPublisher::Poll(std::vector<PublishCompletion>* out, std::int64_t timeout_ns) {
  std::unique_lock lock(impl_->mu);
  if (impl_->done.empty() && timeout_ns > 0) {
    impl_->cv.wait_for(lock, std::chrono::nanoseconds(timeout_ns), [&] { return !impl_->done.empty(); });
  }
  std::size_t n = impl_->done.size();
  for (auto& c : impl_->done) out->push_back(std::move(c));
  impl_->done.clear();
  return n;
}

std::vector<std::uint64_t> AsyncPublisher::AbandonAll() {
  // cnats 3.4.1's js_PublishAsyncGetPendingList dereferences the context's pending map, which
  // exists only after a first async publish: called before one, it crashes.
  if (impl_->js != nullptr && impl_->published) {
    // cnats forgets them (acks that arrive later are dropped) and hands the messages back.
    natsMsgList pending{nullptr, 0};
    if (js_PublishAsyncGetPendingList(&pending, impl_->js) == NATS_OK) natsMsgList_Destroy(&pending);
  }
  std::vector<Impl::Entry> entries;
  {
    // Also the ones whose ack a cnats thread is delivering right now: OnAck will not find them.
    std::lock_guard lock(impl_->mu);
    for (const auto& [msg, e] : impl_->in_flight) entries.push_back(e);
    impl_->in_flight.clear();
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  std::vector<std::uint64_t> tokens;
  tokens.reserve(entries.size());
  for (const auto& e : entries) tokens.push_back(e.token);
  return tokens;
}

std::size_t AsyncPublisher::in_flight() const {
  std::lock_guard lock(impl_->mu);
  return impl_->in_flight.size();
}

std::int64_t AsyncPublisher::OldestInFlightAgeNs() const {
  std::lock_guard lock(impl_->mu);
  if (impl_->in_flight.empty()) return 0;
  std::int64_t oldest = NowNs();
  for (const auto& [msg, e] : impl_->in_flight) oldest = std::min(oldest, e.sent_ns);
  return NowNs() - oldest;
}

// ---- OrderedSubscription ----

struct OrderedSubscription::Impl {
  natsSubscription* sub = nullptr;
  std::string stream;
  ~Impl() {
    // Unsubscribe deletes the ephemeral consumer now rather than at its inactivity threshold.
    if (sub != nullptr) (void)natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
};

OrderedSubscription::OrderedSubscription(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OrderedSubscription::~OrderedSubscription() = default;

Result<std::unique_ptr<OrderedSubscription>> NatsClient::SubscribeOrdered(const std::string& stream,
                                                                          const std::string& subject,
                                                                          std::uint64_t start_seq) {
  if (start_seq == 0) return Status::InvalidArgument("an ordered subscription starts at a sequence >= 1");
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;  // cnats: ephemeral, AckNone, flow control + heartbeats, recreated on a gap
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = start_seq;
  auto impl = std::make_unique<OrderedSubscription::Impl>();
  impl->stream = stream;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&impl->sub, impl_->js, subject.c_str(), nullptr, &so, &jerr);
  // Flow control bounds what the server sends ahead; cnats' own limits would drop messages
  // (a slow consumer) and force the ordered consumer to start over.
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(impl->sub, -1, -1);
  if (s != NATS_OK) return FromNats(s, "ordered subscription to " + stream + " (" + subject + ")", jerr);
  return std::make_unique<OrderedSubscription>(std::move(impl));
}

Result<StoredMessage> OrderedSubscription::Next(std::int64_t timeout_ns) {
  natsMsg* msg = nullptr;
  natsStatus s = natsSubscription_NextMsg(&msg, impl_->sub, ToMillis(timeout_ns));
  if (s == NATS_TIMEOUT) return Status::TimedOut("no message from " + impl_->stream + " in time");
  if (s != NATS_OK) return FromNats(s, "next message of " + impl_->stream);
  jsMsgMetaData* meta = nullptr;
  s = natsMsg_GetMetaData(&meta, msg);
  if (s != NATS_OK) {
    natsMsg_Destroy(msg);
    return FromNats(s, "metadata of a message of " + impl_->stream);
  }
  StoredMessage out = nats_detail::CopyMessage(msg, meta->Sequence.Stream);
  jsMsgMetaData_Destroy(meta);
  natsMsg_Destroy(msg);
  return out;
}

}  // namespace rill::replication
