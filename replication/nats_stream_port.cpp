#include "rill/replication/nats_stream_port.h"

#include <cstring>

#include "rill/replication/nats_client.h"

namespace rill::replication {

namespace {

constexpr int kJsErrWrongLastMsgId = 10070;  // JSStreamWrongLastMsgIDErr

class NatsStreamPort final : public StreamPort {
 public:
  explicit NatsStreamPort(NatsPortConfig c)
      : c_(std::move(c)),
        stream_(StreamName(c_.app, c_.shard)),
        subject_(SubjectName(c_.app, c_.shard)),
        bucket_(SchemaBucketName(c_.app, c_.shard)) {}

  ~NatsStreamPort() override {
    sub_.reset();
    pub_.reset();  // before the client it was made on
  }

  Status Connect() override {
    sub_.reset();
    pub_.reset();
    client_.reset();
    Result<std::unique_ptr<NatsClient>> client = NatsClient::Connect(c_.urls, {.name = c_.client_name});
    if (!client.ok()) return client.status();
    client_ = std::move(client).value();
    if (c_.create) {
      RILL_RETURN_IF_ERROR(client_->EnsureStream({.name = stream_,
                                                  .subject = subject_,
                                                  .replicas = c_.replicas,
                                                  .duplicate_window_ns = c_.duplicate_window_ns,
                                                  .max_msg_size = static_cast<std::int32_t>(c_.max_msg_size)}));
      RILL_RETURN_IF_ERROR(client_->EnsureBucket(bucket_, c_.replicas));
    } else {
      Result<StreamTail> t = client_->GetStreamTail(stream_);
      if (!t.ok()) return t.status().IsNotFound() ? Status::Unavailable(t.status().message()) : t.status();
    }
    return Status::OK();
  }

  std::size_t max_message_bytes() const override { return c_.max_msg_size; }

  Result<TailInfo> Tail() override {
    if (!client_) return NotConnected();
    Result<StreamTail> t = client_->GetStreamTail(stream_);
    if (!t.ok()) return t.status();
    return TailInfo{t->first_seq, t->last_seq, t->messages};
  }

  Result<ShippedMessage> Get(std::uint64_t seq) override {
    if (!client_) return NotConnected();
    Result<StoredMessage> m = client_->GetMessage(stream_, seq);
    if (!m.ok()) return m.status();
    return Convert(std::move(m).value());
  }

  Status PutSchema(std::uint64_t fingerprint, std::span<const std::byte> blob) override {
    if (!client_) return NotConnected();
    const std::string key = FingerprintHex(fingerprint);
    const std::string_view value(reinterpret_cast<const char*>(blob.data()), blob.size());
    Result<std::uint64_t> created = client_->KvCreate(bucket_, key, value);
    if (created.ok()) return Status::OK();
    if (!created.status().IsFailedPrecondition()) return created.status();
    Result<KvEntry> existing = client_->KvGet(bucket_, key);
    if (!existing.ok()) return existing.status();
    if (existing->value != value) {
      std::string m = "schema bucket ";
      m.append(bucket_).append(" holds another blob for fingerprint ").append(key);
      return Status::Corruption(m);
    }
    return Status::OK();
  }

  Result<std::vector<std::byte>> GetSchema(std::uint64_t fingerprint) override {
    if (!client_) return NotConnected();
    Result<KvEntry> e = client_->KvGet(bucket_, FingerprintHex(fingerprint));
    if (!e.ok()) return e.status();
    std::vector<std::byte> out(e->value.size());
    if (!out.empty()) std::memcpy(out.data(), e->value.data(), out.size());
    return out;
  }

  Status Publish(const std::string& msg_id, const MessageHeaders& headers, std::span<const std::byte> bytes,
                 std::uint64_t expected_last_seq, const std::string& expected_last_msg_id,
                 std::uint64_t token) override {
    if (!client_) return NotConnected();
    if (!pub_)
      pub_ =
          std::make_unique<AsyncPublisher>(*client_, AsyncPublisher::Options{.window = c_.window, .wake = ack_wake_});
    published_ = true;
    HeaderList fields = EncodeHeaders(headers);
    if (!expected_last_msg_id.empty()) fields.emplace_back(kHeaderExpectedLastMsgId, expected_last_msg_id);
    return pub_->Publish(subject_, msg_id, expected_last_seq, fields, bytes, token);
  }

  void PollAcks(std::vector<PublishAck>* out, std::int64_t timeout_ns) override {
    if (!pub_) return;
    done_.clear();
    pub_->Poll(&done_, timeout_ns);
    for (PublishCompletion& d : done_) {
      PublishAck a;
      a.token = d.token;
      a.ok = d.ok;
      a.seq = d.seq;
      a.duplicate = d.duplicate;
      switch (d.error) {
        case PublishError::kNone:
          a.error = AckError::kNone;
          break;
        case PublishError::kWrongLastSequence:
          a.error = AckError::kWrongLastSequence;
          break;
        case PublishError::kNoResponders:
        case PublishError::kTimedOut:
        case PublishError::kDisconnected:
          a.error = AckError::kTransient;
          break;
        case PublishError::kOther:
          a.error = AckError::kOther;
          break;
      }
      if (d.js_error_code == kJsErrWrongLastMsgId) a.error = AckError::kWrongLastSequence;
      a.text = std::move(d.text);
      out->push_back(std::move(a));
    }
  }

  void SetAckWake(std::function<void()> wake) override { ack_wake_ = std::move(wake); }

  void AbandonInFlight() override {
    // cnats 3.4.1's js_PublishAsyncGetPendingList dereferences the pending map, which exists
    // only after a first async publish on the context: without one it crashes (in AbandonAll,
    // and so in ~AsyncPublisher). Hence the publisher is made at the first Publish.
    if (pub_ && published_) (void)pub_->AbandonAll();
  }

  Status Subscribe(std::uint64_t start_seq) override {
    if (!client_) return NotConnected();
    sub_.reset();
    Result<std::unique_ptr<OrderedSubscription>> s = client_->SubscribeOrdered(stream_, subject_, start_seq);
    if (!s.ok()) return s.status();
    sub_ = std::move(s).value();
    return Status::OK();
  }

  Result<ShippedMessage> Next(std::int64_t timeout_ns) override {
    if (!sub_) return Status::Unavailable("not subscribed");
    Result<StoredMessage> m = sub_->Next(timeout_ns);
    if (!m.ok()) return m.status();
    return Convert(std::move(m).value());
  }

 private:
  Status NotConnected() const { return Status::Unavailable("not connected to " + c_.urls); }

  Result<ShippedMessage> Convert(StoredMessage m) const {
    ShippedMessage out;
    out.seq = m.seq;
    out.msg_id = std::string(m.Header(kHeaderMsgId).value_or(""));
    Result<MessageHeaders> h = DecodeHeaders(m.headers);
    if (!h.ok()) {
      std::string where = "stream ";
      where.append(stream_).append(" seq ").append(std::to_string(m.seq));
      return h.status().WithContext(where);
    }
    out.headers = *h;
    out.bytes = std::move(m.bytes);
    return out;
  }

  const NatsPortConfig c_;
  const std::string stream_, subject_, bucket_;
  std::unique_ptr<NatsClient> client_;
  std::unique_ptr<AsyncPublisher> pub_;
  std::function<void()> ack_wake_;  // SetAckWake: handed to each publisher made
  std::unique_ptr<OrderedSubscription> sub_;
  std::vector<PublishCompletion> done_;
  bool published_ = false;  // an async publish went out on pub_ (see AbandonInFlight)
};

}  // namespace

std::unique_ptr<StreamPort> MakeNatsStreamPort(const NatsPortConfig& config) {
  return std::make_unique<NatsStreamPort>(config);
}

}  // namespace rill::replication
