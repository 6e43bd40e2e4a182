// rill/replication/nats_client.cpp: NatsClient over cnats: connect, streams, stored messages,
// synchronous publish, KV buckets. AsyncPublisher and OrderedSubscription: nats_publisher.cpp.
#include "rill/replication/nats_client.h"

#include <cstdlib>
#include <cstring>

#include "rill/replication/nats_internal.h"

namespace rill::replication {
namespace nats_detail {

Status FromNats(natsStatus s, std::string_view what, jsErrCode jerr) {
  std::string text(what);
  text.append(": ").append(natsStatus_GetText(s));
  // cnats keeps a per-thread description of the last error, often more precise than the code.
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && std::strcmp(last, natsStatus_GetText(s)) != 0) text.append(": ").append(last);
  if (jerr != 0) text.append(" (JetStream error ").append(std::to_string(static_cast<int>(jerr))).append(")");
  switch (s) {
    case NATS_TIMEOUT:
      return Status::TimedOut(text);
    case NATS_NOT_FOUND:
      return Status::NotFound(text);
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
      return Status::InvalidArgument(text);
    default:
      // Connection trouble, no responders (an election), JetStream temporarily unavailable:
      // all worth retrying, which is what Unavailable tells a caller.
      return Status::Unavailable(text);
  }
}

StoredMessage CopyMessage(natsMsg* msg, std::uint64_t seq) {
  StoredMessage out;
  out.seq = seq;
  const char** keys = nullptr;
  int nkeys = 0;
  if (natsMsgHeader_Keys(msg, &keys, &nkeys) == NATS_OK) {
    for (int i = 0; i < nkeys; ++i) {
      const char** values = nullptr;
      int nvalues = 0;
      if (natsMsgHeader_Values(msg, keys[i], &values, &nvalues) != NATS_OK) continue;
      for (int j = 0; j < nvalues; ++j) out.headers.emplace_back(keys[i], values[j]);
      std::free(static_cast<void*>(values));
    }
    std::free(static_cast<void*>(keys));
  }
  const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(msg));
  out.bytes.assign(data, data + natsMsg_GetDataLength(msg));
  return out;
}

natsMsg* BuildMessage(const std::string& subject, const NatsHeaders& headers, std::span<const std::byte> bytes,
                      Status* status) {
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, reinterpret_cast<const char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  for (const auto& [name, value] : headers) {
    if (s == NATS_OK) s = natsMsgHeader_Add(msg, name.c_str(), value.c_str());
  }
  if (s != NATS_OK) {
    *status = FromNats(s, "building a message for " + subject);
    natsMsg_Destroy(msg);
    return nullptr;
  }
  return msg;
}

PublishError Classify(natsStatus s, int jerr) {
  if (jerr == kJsErrWrongLastSequence) return PublishError::kWrongLastSequence;
  switch (s) {
    case NATS_OK:
      return PublishError::kNone;
    case NATS_NO_RESPONDERS:
      return PublishError::kNoResponders;
    case NATS_TIMEOUT:
      return PublishError::kTimedOut;
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_IO_ERROR:
      return PublishError::kDisconnected;
    default:
      return PublishError::kOther;
  }
}

Status CheckConnected(const NatsClient::Impl& impl, std::string_view what) {
  const natsConnStatus st = natsConnection_Status(impl.nc);
  if (st == NATS_CONN_STATUS_CONNECTED) return Status::OK();
  const char* state = "disconnected";
  switch (st) {
    case NATS_CONN_STATUS_RECONNECTING:
      state = "reconnecting";
      break;
    case NATS_CONN_STATUS_CLOSED:
      state = "closed";
      break;
    case NATS_CONN_STATUS_CONNECTING:
      state = "connecting";
      break;
    case NATS_CONN_STATUS_DRAINING_SUBS:
    case NATS_CONN_STATUS_DRAINING_PUBS:
      state = "draining";
      break;
    default:
      break;
  }
  std::string text(what);
  text.append(": not connected to NATS at ").append(impl.urls).append(" (").append(state);
  const char* last = nullptr;
  if (natsConnection_GetLastError(impl.nc, &last) != NATS_OK && last != nullptr && *last != '\0')
    text.append("; last error: ").append(last);
  text.append(")");
  return Status::Unavailable(text);
}

}  // namespace nats_detail

using nats_detail::CheckConnected;
using nats_detail::FromNats;
using nats_detail::ToMillis;

std::optional<std::string_view> StoredMessage::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

NatsClient::Impl::~Impl() {
  for (auto& [name, kv] : kv) kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);  // closes it first
}

NatsClient::NatsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NatsClient::~NatsClient() = default;
const std::string& NatsClient::urls() const noexcept { return impl_->urls; }
bool NatsClient::connected() const noexcept { return natsConnection_Status(impl_->nc) == NATS_CONN_STATUS_CONNECTED; }

Result<std::unique_ptr<NatsClient>> NatsClient::Connect(const std::string& urls, const ConnectOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->urls = urls;
  impl->options = options;
  std::vector<std::string> list;
  for (std::size_t start = 0; start <= urls.size();) {
    std::size_t comma = urls.find(',', start);
    if (comma == std::string::npos) comma = urls.size();
    if (comma > start) list.push_back(urls.substr(start, comma - start));
    start = comma + 1;
  }
  if (list.empty()) return Status::InvalidArgument("no NATS server URL given");
  std::vector<const char*> servers;
  for (const auto& u : list) servers.push_back(u.c_str());

  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetName(opts, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, ToMillis(options.connect_timeout_ns));
  if (s == NATS_OK) s = natsOptions_SetAllowReconnect(opts, true);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);  // forever
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, ToMillis(options.reconnect_wait_ns));
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, ToMillis(options.ping_interval_ns));
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts, 2);
  if (s == NATS_OK) s = natsConnection_Connect(&impl->nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return FromNats(s, "connecting to NATS at " + urls);

  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ToMillis(options.request_timeout_ns);
  s = natsConnection_JetStream(&impl->js, impl->nc, &jo);
  if (s != NATS_OK) return FromNats(s, "JetStream context on " + urls);
  return std::unique_ptr<NatsClient>(new NatsClient(std::move(impl)));
}

namespace {

std::string DescribeStream(const std::string& subject, std::int64_t replicas) {
  std::string d("subject ");
  d.append(subject).append(", R").append(std::to_string(replicas));
  return d;
}

}  // namespace

Status NatsClient::EnsureStream(const StreamSpec& spec) {
  if (spec.name.empty() || spec.subject.empty()) return Status::InvalidArgument("stream name and subject are required");
  RILL_RETURN_IF_ERROR(CheckConnected(*impl_, "stream " + spec.name));
  for (int attempt = 0; attempt < 2; ++attempt) {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, impl_->js, spec.name.c_str(), nullptr, &jerr);
    if (s == NATS_OK) {
      const jsStreamConfig* c = si->Config;
      std::string have =
          DescribeStream(c->SubjectsLen == 1 ? std::string(c->Subjects[0]) : std::string("(several)"), c->Replicas);
      bool same = c->SubjectsLen == 1 && spec.subject == c->Subjects[0] && c->Replicas == spec.replicas;
      jsStreamInfo_Destroy(si);
      if (same) return Status::OK();
      std::string msg("stream ");
      msg.append(spec.name)
          .append(" exists with ")
          .append(have)
          .append("; wanted ")
          .append(DescribeStream(spec.subject, spec.replicas));
      return Status::InvalidArgument(msg);
    }
    if (s != NATS_NOT_FOUND) return FromNats(s, "stream info of " + spec.name, jerr);

    const char* subjects[1] = {spec.subject.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = spec.name.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_LimitsPolicy;  // no limits set: nothing is ever discarded
    cfg.Storage = js_FileStorage;
    cfg.Replicas = spec.replicas;
    cfg.Duplicates = spec.duplicate_window_ns;
    cfg.MaxMsgSize = spec.max_msg_size;
    cfg.DenyDelete = true;
    cfg.DenyPurge = true;
    s = js_AddStream(&si, impl_->js, &cfg, nullptr, &jerr);
    jsStreamInfo_Destroy(si);
    if (s == NATS_OK) return Status::OK();
    // 10058: created meanwhile by someone else; look again and compare.
    if (static_cast<int>(jerr) != 10058) return FromNats(s, "creating stream " + spec.name, jerr);
  }
  return Status::Unavailable("stream " + spec.name + " neither exists nor can be created");
}

Status NatsClient::DeleteStream(const std::string& stream) {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteStream(impl_->js, stream.c_str(), nullptr, &jerr);
  return s == NATS_OK ? Status::OK() : FromNats(s, "deleting stream " + stream, jerr);
}

namespace {

// Per-call options for a read: the context's, with the read timeout (ConnectOptions).
jsOptions ReadOptions(const ConnectOptions& o) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = ToMillis(o.read_timeout_ns);
  return jo;
}

}  // namespace

Result<StreamTail> NatsClient::GetStreamTail(const std::string& stream) {
  RILL_RETURN_IF_ERROR(CheckConnected(*impl_, "stream info of " + stream));
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = ReadOptions(impl_->options);
  natsStatus s = js_GetStreamInfo(&si, impl_->js, stream.c_str(), &jo, &jerr);
  if (s != NATS_OK) return FromNats(s, "stream info of " + stream, jerr);
  StreamTail t{si->State.FirstSeq, si->State.LastSeq, si->State.Msgs};
  if (t.messages == 0) t.first_seq = 0;
  jsStreamInfo_Destroy(si);
  return t;
}

Result<std::string> NatsClient::StreamLeader(const std::string& stream) {
  RILL_RETURN_IF_ERROR(CheckConnected(*impl_, "stream info of " + stream));
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = ReadOptions(impl_->options);
  natsStatus s = js_GetStreamInfo(&si, impl_->js, stream.c_str(), &jo, &jerr);
  if (s != NATS_OK) return FromNats(s, "stream info of " + stream, jerr);
  std::string leader = si->Cluster != nullptr && si->Cluster->Leader != nullptr ? si->Cluster->Leader : "";
  jsStreamInfo_Destroy(si);
  return leader;
}

Result<StoredMessage> NatsClient::GetMessage(const std::string& stream, std::uint64_t seq) {
  RILL_RETURN_IF_ERROR(CheckConnected(*impl_, "message " + std::to_string(seq) + " of " + stream));
  natsMsg* msg = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsOptions jo = ReadOptions(impl_->options);
  natsStatus s = js_GetMsg(&msg, impl_->js, stream.c_str(), seq, &jo, &jerr);
  std::string what("message ");
  what.append(std::to_string(seq)).append(" of ").append(stream);
  if (s != NATS_OK) {
    if (static_cast<int>(jerr) == kJsErrNoMessageFound) return Status::NotFound(what.append(": no message found"));
    return FromNats(s, what, jerr);
  }
  StoredMessage out = nats_detail::CopyMessage(msg, seq);
  natsMsg_Destroy(msg);
  return out;
}

PublishCompletion NatsClient::Publish(const std::string& subject, const std::string& msg_id,
                                      std::uint64_t expected_last_seq, const NatsHeaders& headers,
                                      std::span<const std::byte> bytes) {
  PublishCompletion out;
  Status built;
  natsMsg* msg = nats_detail::BuildMessage(subject, headers, bytes, &built);
  if (msg == nullptr) {
    out.error = PublishError::kOther;
    out.text = built.ToString();
    return out;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  if (!msg_id.empty()) po.MsgId = msg_id.c_str();
  po.ExpectLastSeq = expected_last_seq;
  jsPubAck* pa = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PublishMsg(&pa, impl_->js, msg, &po, &jerr);
  natsMsg_Destroy(msg);
  if (s == NATS_OK) {
    out.ok = true;
    out.seq = pa->Sequence;
    out.duplicate = pa->Duplicate;
    jsPubAck_Destroy(pa);
    return out;
  }
  out.js_error_code = static_cast<int>(jerr);
  out.error = nats_detail::Classify(s, out.js_error_code);
  out.text = FromNats(s, "publishing to " + subject, jerr).ToString();
  return out;
}

// ---- KV ----

Status NatsClient::EnsureBucket(const std::string& bucket, int replicas, std::int64_t ttl_ns) {
  std::lock_guard lock(impl_->kv_mu);
  if (impl_->kv.count(bucket) != 0) return Status::OK();
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, impl_->js, bucket.c_str());
  if (s == NATS_NOT_FOUND) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = bucket.c_str();
    cfg.History = 1;
    cfg.TTL = ttl_ns;
    cfg.StorageType = js_FileStorage;
    cfg.Replicas = replicas;
    s = js_CreateKeyValue(&kv, impl_->js, &cfg);
  }
  if (s != NATS_OK) return FromNats(s, "KV bucket " + bucket);
  impl_->kv.emplace(bucket, kv);
  return Status::OK();
}

namespace {

// The opened store for bucket (opened on first use: the bucket may have been made elsewhere).
Result<kvStore*> OpenBucket(NatsClient::Impl& impl, const std::string& bucket) {
  std::lock_guard lock(impl.kv_mu);
  auto it = impl.kv.find(bucket);
  if (it != impl.kv.end()) return it->second;
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, impl.js, bucket.c_str());
  if (s != NATS_OK) return FromNats(s, "KV bucket " + bucket);
  impl.kv.emplace(bucket, kv);
  return kv;
}

bool IsWrongLastSequence() {
  const char* last = nats_GetLastError(nullptr);
  return last != nullptr && std::strstr(last, "wrong last sequence") != nullptr;
}

}  // namespace

Result<KvEntry> NatsClient::KvGet(const std::string& bucket, const std::string& key) {
  auto kv = OpenBucket(*impl_, bucket);
  if (!kv.ok()) return kv.status();
  kvEntry* e = nullptr;
  natsStatus s = kvStore_Get(&e, *kv, key.c_str());
  if (s == NATS_NOT_FOUND) return Status::NotFound("key " + key + " not in bucket " + bucket);
  if (s != NATS_OK) return FromNats(s, "KV get " + bucket + "/" + key);
  KvEntry out{std::string(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e))),
              kvEntry_Revision(e)};
  kvEntry_Destroy(e);
  return out;
}

Result<std::uint64_t> NatsClient::KvCreate(const std::string& bucket, const std::string& key, std::string_view value) {
  auto kv = OpenBucket(*impl_, bucket);
  if (!kv.ok()) return kv.status();
  std::uint64_t rev = 0;
  natsStatus s = kvStore_Create(&rev, *kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (s == NATS_OK) return rev;
  if (IsWrongLastSequence()) return Status::FailedPrecondition("key " + key + " already exists in bucket " + bucket);
  return FromNats(s, "KV create " + bucket + "/" + key);
}

Result<std::uint64_t> NatsClient::KvUpdate(const std::string& bucket, const std::string& key, std::string_view value,
                                           std::uint64_t expected_revision) {
  auto kv = OpenBucket(*impl_, bucket);
  if (!kv.ok()) return kv.status();
  if (expected_revision == 0) return Status::InvalidArgument("KvUpdate needs a revision: use KvCreate for a new key");
  std::uint64_t rev = 0;
  natsStatus s =
      kvStore_Update(&rev, *kv, key.c_str(), value.data(), static_cast<int>(value.size()), expected_revision);
  if (s == NATS_OK) return rev;
  if (IsWrongLastSequence()) {
    std::string msg("key ");
    msg.append(key)
        .append(" in bucket ")
        .append(bucket)
        .append(" is not at revision ")
        .append(std::to_string(expected_revision));
    return Status::FailedPrecondition(msg);
  }
  return FromNats(s, "KV update " + bucket + "/" + key);
}

}  // namespace rill::replication
