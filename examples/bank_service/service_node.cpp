// The bank service as writer or standby (service_node.h).
#include "rill/examples/bank_service/service_node.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <thread>

#include "rill/replication/lease.h"

namespace rill::examples::bank_service {
namespace {

std::int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void RoleBoard::SetRole(std::string role) {
  std::lock_guard<std::mutex> lock(mu_);
  role_ = std::move(role);
}
void RoleBoard::SetWriter(std::string writer) {
  std::lock_guard<std::mutex> lock(mu_);
  writer_ = std::move(writer);
}
std::string RoleBoard::NotWriterMessage() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string m = "not the writer: this node is ";
  m += role_ == "standby" ? std::string("a standby") : role_;
  m += "; the writer is ";
  m += writer_.empty() ? std::string("not known (the lease is free or unread: a takeover may be under way)") : writer_;
  m += "; send commands to the writer";
  return m;
}

class ServiceNode::Impl {
 public:
  Impl(BankService& service, RoleBoard& board, ServiceNodeOptions o) : service_(service), board_(board), opt_(o) {}

  Status Start() {
    replication::NodeOptions o;
    o.directory = opt_.journal_directory;
    o.nats_urls = opt_.nats_urls;
    o.app = opt_.app;
    o.shard = opt_.shard;
    o.holder = opt_.holder;
    o.lease_ttl_ns = opt_.lease_ttl_ns;
    o.replicas = opt_.replicas;
    o.open_writer = [this](const std::string& dir, engine::ReplicationProgress* rep) { return OpenWriter(dir, rep); };
    o.close_writer = [this] { CloseWriter(); };
    o.on_standby = [this](const std::string& dir) {
      board_.SetRole("standby");
      // A new standby period (after a reconcile that may have cut the journal): a fresh hot
      // state; the previous one, if a takeover did not use it, is dropped.
      Result<std::unique_ptr<BankHotStandby>> hot = service_.StartHotStandby(dir);
      hot_ = hot.ok() ? std::move(hot).value() : nullptr;
      Log("standby (following the stream " + opt_.app + "." + opt_.shard + " into " + dir +
          (hot_ ? std::string(", hot: the engine's state follows it)")
                : ", no hot state: " + hot.status().ToString() + "; a takeover replays the journal)"));
    };
    Result<std::unique_ptr<replication::Node>> node = replication::Node::Start(o);
    if (!node.ok()) return node.status().WithContext("bank service: starting the replication node");
    node_ = std::move(node).value();
    watcher_ = std::thread([this] { Watch(); });
    return Status::OK();
  }

  // The one place the writer is opened: with the hot state of the standby period, if any (a
  // restart in place has none, or one of an earlier standby period on this same journal,
  // which nothing cut since: a cut starts a new standby period).
  Status OpenWriter(const std::string& dir, engine::ReplicationProgress* rep) {
    const std::int64_t t0 = SteadyNs();
    const bool hot = hot_ != nullptr;
    Status s = service_.OpenWriter(dir, rep, std::move(hot_));
    if (!s.ok()) {
      Log("could not open the writer: " + s.ToString());
      return s;
    }
    board_.SetRole("writer");
    board_.SetWriter(opt_.holder);
    const engine::RecoveryInfo& r = service_.engine().recovery();
    std::string how =
        hot ? "took the hot state at position " + std::to_string(r.hot_standby_position) + " and replayed "
            : std::string("replayed ");
    how += std::to_string(r.replayed_events) + " events of " + dir;
    Log("writer (holder " + opt_.holder + ", the engine " + how + " in " +
        std::to_string((SteadyNs() - t0) / 1'000'000) + " ms)");
    return s;
  }

  void CloseWriter() {
    board_.SetRole("leaving the writer role");
    board_.SetWriter("");
    service_.CloseWriter("this node left the writer role");
    Log("left the writer role (fenced, lease lost, or stopping): commands are refused");
  }

  // While not the writer: who the lease names, for the refusals; the node giving up.
  void Watch() {
    std::unique_ptr<replication::Lease> lease;
    bool reported_stop = false;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      if (node_->role() == replication::NodeRole::kStopped && !reported_stop) {
        reported_stop = true;
        board_.SetRole("stopped (" + node_->final_error().ToString() + ")");
        Log("stopped: " + node_->final_error().ToString());
      } else if (node_->role() != replication::NodeRole::kWriter) {
        if (!lease) {
          Result<std::unique_ptr<replication::Lease>> l =
              replication::Lease::Open({.nats_urls = opt_.nats_urls,
                                        .app = opt_.app,
                                        .shard = opt_.shard,
                                        .ttl_ns = opt_.lease_ttl_ns,
                                        .replicas = opt_.replicas,
                                        .client_name = "rill-bank-service-watch-" + opt_.holder});
          if (l.ok()) lease = std::move(l).value();
        }
        if (lease) {
          Result<replication::LeaseHolder> h = lease->Holder();
          if (h.ok() && h->holder != opt_.holder) {
            std::string w = h->holder;
            w += " (lease epoch ";
            w += std::to_string(h->epoch);
            w += ")";
            board_.SetWriter(std::move(w));
          } else if (h.ok() || h.status().IsNotFound()) {
            board_.SetWriter("");  // free, or ours while we take over
          }
        }
      }
      lock.lock();
      cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stop_; });
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
    if (node_) node_->Stop();
  }

  void Log(const std::string& what) const {
    if (opt_.log_to_stderr) std::fprintf(stderr, "rill-bank-service: role: %s\n", what.c_str());
  }

  BankService& service_;
  RoleBoard& board_;
  const ServiceNodeOptions opt_;
  std::unique_ptr<replication::Node> node_;
  std::unique_ptr<BankHotStandby> hot_;  // the node's control thread (on_standby, open_writer)
  std::thread watcher_;
  std::mutex mu_;  // cold: the watcher's stop flag
  std::condition_variable cv_;
  bool stop_ = false;
};

Result<std::unique_ptr<ServiceNode>> ServiceNode::Start(BankService& service, RoleBoard& board,
                                                        const ServiceNodeOptions& options) {
  if (options.journal_directory.empty() || options.nats_urls.empty() || options.app.empty() || options.shard.empty() ||
      options.holder.empty())
    return Status::InvalidArgument(
        "bank service: the replication node needs the journal directory, NATS URLs, app, shard and holder");
  auto impl = std::make_unique<Impl>(service, board, options);
  RILL_RETURN_IF_ERROR(impl->Start());
  return Result<std::unique_ptr<ServiceNode>>(std::unique_ptr<ServiceNode>(new ServiceNode(std::move(impl))));
}

ServiceNode::ServiceNode(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServiceNode::~ServiceNode() { Stop(); }
void ServiceNode::Stop() { impl_->Stop(); }
replication::NodeRole ServiceNode::role() const { return impl_->node_->role(); }
Status ServiceNode::final_error() const { return impl_->node_->final_error(); }
std::string ServiceNode::state() const { return impl_->node_->state(); }

}  // namespace rill::examples::bank_service
