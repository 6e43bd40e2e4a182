// The bank service (server.h): accept loop, one coroutine per connection, shutdown.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange (TOOLCHAIN.md §6.7)

#include "rill/examples/bank_service/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "rill/engine/asio.h"

namespace rill::examples::bank_service {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kAwait = asio::use_awaitable;

// A connection: its socket (whose executor is the connection's strand).
struct Connection {
  explicit Connection(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
};

}  // namespace

struct BankService::Impl {
  explicit Impl(ServiceOptions o) : options(std::move(o)), acceptor(asio::make_strand(io)) {}

  Status Open();
  WriterOptions MakeWriterOptions(const std::string& journal_directory, engine::ReplicationProgress* replication) const;
  Status OpenWriter(const std::string& journal_directory, engine::ReplicationProgress* replication,
                    std::unique_ptr<BankHotStandby> hot);
  void CloseWriter(const std::string& why);
  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> RunConnection(std::shared_ptr<Connection> conn);
  // Builds the reply to one frame (prefix included, not yet verified) in `fbb`.
  asio::awaitable<void> Answer(std::span<const std::uint8_t> frame, flatbuffers::FlatBufferBuilder& fbb);
  void Register(const std::shared_ptr<Connection>& conn);
  void Unregister(const std::shared_ptr<Connection>& conn);
  void Stop();

  void Error(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, wire::ErrorCode code,
             std::string_view message) {
    BuildErrorReply(fbb, request_id, code, message);
    error_replies.fetch_add(1, std::memory_order_relaxed);
  }

  std::string NotWriterMessage() const {
    std::string m = options.not_writer_message ? options.not_writer_message() : std::string();
    return m.empty() ? std::string("not the writer: this node has no writer open (it is starting or stopping)") : m;
  }

  const ServiceOptions options;
  // Destruction order matters (reverse of declaration): the io_context outlives the writer
  // (its engine's and view's ops post to it).
  asio::io_context io;
  // The current writer, or null (bank_writer.h; server.h says why an atomic shared_ptr).
  // Acquire/release: a request that loads it sees the writer fully opened.
  std::atomic<std::shared_ptr<BankWriter>> writer;
  std::mutex writer_mu;  // cold: serializes OpenWriter/CloseWriter/Stop's hand-over
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  std::vector<std::thread> threads;

  std::mutex mu;  // cold: connection registry and stop flag
  std::list<std::weak_ptr<Connection>> connections;
  bool stopping = false;
  bool stopped = false;

  std::atomic<std::uint64_t> accepted{0}, requests{0}, error_replies{0}, closed_bad_frames{0};
};

Status BankService::Impl::Open() {
  if (options.data_directory.empty()) return Status::InvalidArgument("ServiceOptions::data_directory is required");
  if (options.io_threads < 1) return Status::InvalidArgument("ServiceOptions::io_threads must be at least 1");
  if (options.max_frame_bytes < kMinFrameBytes)
    return Status::InvalidArgument("ServiceOptions::max_frame_bytes must be at least " +
                                   std::to_string(kMinFrameBytes));

  std::error_code mkdir_error;
  std::filesystem::create_directories(options.data_directory + "/checkpoints", mkdir_error);
  if (mkdir_error)
    return Status::IOError("bank service: creating " + options.data_directory + ": " + mkdir_error.message());

  if (!options.writer_from_node)
    RILL_RETURN_IF_ERROR(OpenWriter(options.data_directory + "/journal", nullptr, nullptr));

  error_code ec;
  const asio::ip::address address = asio::ip::make_address(options.address, ec);
  if (ec) return Status::InvalidArgument("bank service: address '" + options.address + "': " + ec.message());
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = options.address + ":" + std::to_string(options.port);
  if (acceptor.open(endpoint.protocol(), ec); ec) return Status::IOError("bank service: socket: " + ec.message());
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec); ec)
    return Status::IOError("bank service: SO_REUSEADDR: " + ec.message());
  if (acceptor.bind(endpoint, ec); ec) return Status::IOError("bank service: bind " + where + ": " + ec.message());
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
    return Status::IOError("bank service: listen " + where + ": " + ec.message());
  port = acceptor.local_endpoint().port();

  asio::co_spawn(acceptor.get_executor(), AcceptLoop(), asio::detached);
  for (int i = 0; i < options.io_threads; ++i) threads.emplace_back([this] { io.run(); });
  return Status::OK();
}

WriterOptions BankService::Impl::MakeWriterOptions(const std::string& journal_directory,
                                                   engine::ReplicationProgress* replication) const {
  WriterOptions wo;
  wo.journal_directory = journal_directory;
  // server.h (writer_from_node) says why a replicated service keeps no projector checkpoints.
  wo.checkpoint_directory = options.writer_from_node ? std::string() : options.data_directory + "/checkpoints";
  wo.durability = options.durability;
  wo.salvage = options.salvage;
  wo.ring_size = options.ring_size;
  wo.projector_cpu = options.projector_cpu;
  wo.log_to_stderr = options.log_to_stderr;
  wo.replication = replication;
  return wo;
}

Status BankService::Impl::OpenWriter(const std::string& journal_directory, engine::ReplicationProgress* replication,
                                     std::unique_ptr<BankHotStandby> hot) {
  std::lock_guard<std::mutex> lock(writer_mu);
  {
    std::lock_guard<std::mutex> stop_lock(mu);
    if (stopping) return Status::FailedPrecondition("bank service: stopping, no writer is opened");
  }
  if (writer.load(std::memory_order_acquire))
    return Status::FailedPrecondition("bank service: a writer is already open (CloseWriter first)");
  Result<std::shared_ptr<BankWriter>> opened =
      BankWriter::Open(MakeWriterOptions(journal_directory, replication), std::move(hot));
  if (!opened.ok()) return opened.status();
  writer.store(std::move(opened).value(), std::memory_order_release);
  return Status::OK();
}

void BankService::Impl::CloseWriter(const std::string& why) {
  std::lock_guard<std::mutex> lock(writer_mu);
  // New requests are refused from here on; those holding a copy get the stopped engine's
  // kShutdown (or their outcome, if it was decided first).
  std::shared_ptr<BankWriter> w = writer.exchange(nullptr, std::memory_order_acq_rel);
  if (w) w->Stop(why);
}

asio::awaitable<void> BankService::Impl::AcceptLoop() {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    // Each connection gets its own strand: with several io threads, its coroutine still runs
    // one step at a time.
    tcp::socket socket(asio::make_strand(io));
    error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(kAwait, ec));
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: say so, and give the process a moment instead of spinning.
      if (options.log_to_stderr) std::fprintf(stderr, "bank service: accept: %s\n", ec.message().c_str());
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::redirect_error(kAwait, ec));
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);  // one small reply per request: never wait for Nagle
    accepted.fetch_add(1, std::memory_order_relaxed);
    auto conn = std::make_shared<Connection>(std::move(socket));
    Register(conn);
    asio::co_spawn(conn->socket.get_executor(), RunConnection(conn), asio::detached);
  }
}

void BankService::Impl::Register(const std::shared_ptr<Connection>& conn) {
  std::lock_guard<std::mutex> lock(mu);
  if (stopping) {
    // Stop already closed the others; this one must not outlive it. Its strand runs the close.
    asio::post(conn->socket.get_executor(), [conn] {
      error_code ignored;
      conn->socket.close(ignored);
    });
  }
  connections.push_back(conn);
}

void BankService::Impl::Unregister(const std::shared_ptr<Connection>& conn) {
  std::lock_guard<std::mutex> lock(mu);
  connections.remove_if([&](const std::weak_ptr<Connection>& w) {
    auto p = w.lock();
    return !p || p == conn;
  });
}

asio::awaitable<void> BankService::Impl::RunConnection(std::shared_ptr<Connection> conn) {
  tcp::socket& socket = conn->socket;
  // Input buffer: frames are parsed in place; grows up to one maximal frame.
  std::vector<std::uint8_t> in(std::min<std::size_t>(16 * 1024, kFrameHeaderSize + options.max_frame_bytes));
  std::size_t begin = 0, end = 0;
  flatbuffers::FlatBufferBuilder fbb(512);
  error_code ec;

  // Reads until `need` bytes from `begin` are buffered; false on EOF or error.
  auto fill = [&](std::size_t need) -> asio::awaitable<bool> {
    if (in.size() - begin < need) {  // make room: move the partial frame to the front
      std::memmove(in.data(), in.data() + begin, end - begin);
      end -= begin;
      begin = 0;
      if (in.size() < need) in.resize(need);
    }
    while (end - begin < need) {
      const std::size_t n = co_await socket.async_read_some(asio::buffer(in.data() + end, in.size() - end),
                                                            asio::redirect_error(kAwait, ec));
      if (ec) co_return false;
      end += n;
    }
    co_return true;
  };

  for (;;) {
    if (!co_await fill(kFrameHeaderSize)) break;
    const std::uint32_t length = ReadFrameLength(in.data() + begin);
    if (const FrameCheck check = CheckFrameLength(length, options.max_frame_bytes); check != FrameCheck::kOk) {
      // The length cannot be trusted, so neither can anything after it: answer and close.
      const bool too_large = check == FrameCheck::kTooLarge;
      Error(fbb, 0, too_large ? wire::ErrorCode::FrameTooLarge : wire::ErrorCode::BadLength,
            too_large ? "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                            std::to_string(options.max_frame_bytes)
                      : "frame of " + std::to_string(length) + " bytes is shorter than the minimum of " +
                            std::to_string(kMinFrameBytes));
      requests.fetch_add(1, std::memory_order_relaxed);
      closed_bad_frames.fetch_add(1, std::memory_order_relaxed);
      co_await asio::async_write(socket, asio::buffer(fbb.GetBufferPointer(), fbb.GetSize()),
                                 asio::redirect_error(kAwait, ec));
      socket.shutdown(tcp::socket::shutdown_both, ec);
      break;
    }
    if (!co_await fill(kFrameHeaderSize + length)) break;  // EOF mid-frame: the client gave up
    if (begin % kFrameAlignment != 0) {
      // After a frame whose length is not a multiple of 8 (a valid one always is): realign,
      // so reading its 64-bit fields is never a misaligned load. in.data() is malloc-aligned.
      std::memmove(in.data(), in.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    co_await Answer({in.data() + begin, kFrameHeaderSize + length}, fbb);
    begin += kFrameHeaderSize + length;
    if (begin == end) begin = end = 0;
    requests.fetch_add(1, std::memory_order_relaxed);
    co_await asio::async_write(socket, asio::buffer(fbb.GetBufferPointer(), fbb.GetSize()),
                               asio::redirect_error(kAwait, ec));
    if (ec) break;
  }
  socket.close(ec);
  Unregister(conn);
}

asio::awaitable<void> BankService::Impl::Answer(std::span<const std::uint8_t> frame,
                                                flatbuffers::FlatBufferBuilder& fbb) {
  const wire::Request* request = VerifyRequest(frame);
  if (request == nullptr) {
    Error(fbb, 0, wire::ErrorCode::Malformed, "the frame is not a valid Request (FlatBuffers verification failed)");
    co_return;
  }
  const std::uint64_t id = request->request_id();
  const wire::Body type = request->body_type();
  if (type == wire::Body::NONE || type > wire::Body::MAX) {
    Error(fbb, id, wire::ErrorCode::UnknownType,
          type == wire::Body::NONE ? std::string("the request has no body")
                                   : "unknown body type " + std::to_string(static_cast<unsigned>(type)));
    co_return;
  }

  // One load per request; the copy keeps the writer alive until this reply is built.
  const std::shared_ptr<BankWriter> w = writer.load(std::memory_order_acquire);
  if (!w) {
    Error(fbb, id, wire::ErrorCode::NotWriter, NotWriterMessage());
    co_return;
  }
  engine::AppliedView& view = w->view();

  if (type == wire::Body::BalanceQuery) {
    const wire::BalanceQuery* q = request->body_as_BalanceQuery();
    if (q == nullptr) {
      Error(fbb, id, wire::ErrorCode::Malformed, "BalanceQuery without its table");
      co_return;
    }
    if (q->min_position() > view.position()) {
      const Status s = co_await engine::async_wait_for(view, q->min_position(), kAwait);
      if (!s.ok()) {
        Error(fbb, id, wire::ErrorCode::Unavailable, s.ToString());
        co_return;
      }
    }
    // The position first: the model read after it is as of that position or later.
    const std::uint64_t applied = w->balances_position();
    const std::optional<projections::bank::AccountBalance> b = w->balances().Get(q->account());
    BalanceAnswer answer{.account = q->account(), .applied_position = applied};
    if (b) {
      answer.found = true;
      answer.balance = b->balance;
      answer.version = b->version;
      answer.closed = b->state == projections::bank::AccountState::kClosed;
    }
    BuildBalanceReply(fbb, id, answer);
    co_return;
  }

  const std::optional<bank::Command> command = ToCommand(*request);
  const std::optional<engine::AckLevel> ack = ToAckLevel(request->ack());
  if (!command || !ack) {
    Error(fbb, id, wire::ErrorCode::Malformed, !command ? "a command type without its table" : "ack out of range");
    co_return;
  }
  const engine::CommandMeta meta{.command_id = request->command_id(), .expected_version = request->expected_version()};
  BankEngine& engine = w->engine();
  engine::CommandOutcome outcome;
  if (options.min_ack_replicated && *ack == engine::AckLevel::kApplied) {
    // Replicated first, then the view: the engine's applied(view) level does not wait for
    // replication.
    outcome = co_await engine::async_submit(engine, *command, meta, engine::AckLevel::kReplicated, kAwait);
    if (outcome.accepted() && outcome.position() > view.position()) {
      const Status s = co_await engine::async_wait_for(view, outcome.position(), kAwait);
      if (!s.ok())
        outcome = engine::CommandOutcome::ViewUnavailable(
            outcome,
            engine::Rejection(engine::RejectCode::kViewUnavailable, 0, "replicated, but the view is unavailable"));
    }
  } else if (*ack == engine::AckLevel::kApplied) {
    outcome = co_await engine::async_submit(engine, *command, meta, view, kAwait);
  } else {
    engine::AckLevel level = *ack;
    if (options.min_ack_replicated && level == engine::AckLevel::kJournaled) level = engine::AckLevel::kReplicated;
    if (options.min_ack_replicated && level == engine::AckLevel::kDurable) level = engine::AckLevel::kReplicatedDurable;
    outcome = co_await engine::async_submit(engine, *command, meta, level, kAwait);
  }
  BuildOutcomeReply(fbb, id, outcome);
}

void BankService::Impl::Stop() {
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (stopped) return;
    stopped = true;
    stopping = true;
    for (const auto& w : connections)
      if (auto c = w.lock()) open.push_back(std::move(c));
  }
  // Each close runs on the strand that owns the object.
  asio::post(acceptor.get_executor(), [this] {
    error_code ignored;
    acceptor.close(ignored);
  });
  for (auto& c : open) {
    asio::post(c->socket.get_executor(), [c] {
      error_code ignored;
      c->socket.close(ignored);
    });
  }
  open.clear();
  // Commands in flight complete (decided, or kShutdown) and their handlers are posted; the
  // connections then find their sockets closed and end. (A replicated service stops its Node
  // first, which closes the writer through CloseWriter; `stopping` refuses a late OpenWriter.)
  CloseWriter("the bank service is stopping");
  // Every op holds work on io until its handler ran, so run() returns once all are done.
  for (std::thread& t : threads) t.join();
  threads.clear();
}

BankService::BankService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BankService::~BankService() { Stop(); }

Result<std::unique_ptr<BankService>> BankService::Start(ServiceOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (Status s = impl->Open(); !s.ok()) {
    impl->Stop();
    return s;
  }
  return Result<std::unique_ptr<BankService>>(std::unique_ptr<BankService>(new BankService(std::move(impl))));
}

void BankService::Stop() {
  if (impl_) impl_->Stop();
}
std::uint16_t BankService::port() const noexcept { return impl_->port; }
ServiceStats BankService::stats() const noexcept {
  return {impl_->accepted.load(std::memory_order_relaxed), impl_->requests.load(std::memory_order_relaxed),
          impl_->error_replies.load(std::memory_order_relaxed),
          impl_->closed_bad_frames.load(std::memory_order_relaxed)};
}
Status BankService::OpenWriter(const std::string& journal_directory, engine::ReplicationProgress* replication,
                               std::unique_ptr<BankHotStandby> hot) {
  return impl_->OpenWriter(journal_directory, replication, std::move(hot));
}
Result<std::unique_ptr<BankHotStandby>> BankService::StartHotStandby(const std::string& journal_directory) const {
  return BankHotStandby::Start(BankEngineOptions(impl_->MakeWriterOptions(journal_directory, nullptr)));
}
void BankService::CloseWriter(const std::string& why) { impl_->CloseWriter(why); }
bool BankService::writing() const noexcept { return impl_->writer.load(std::memory_order_acquire) != nullptr; }
// These return references into the current writer: valid while it stays open (a standalone
// service's writer stays until Stop).
BankEngine& BankService::engine() noexcept { return impl_->writer.load(std::memory_order_acquire)->engine(); }
engine::AppliedView& BankService::balances_view() noexcept {
  return impl_->writer.load(std::memory_order_acquire)->view();
}
const projections::bank::Balances& BankService::balances() const noexcept {
  return impl_->writer.load(std::memory_order_acquire)->balances();
}

}  // namespace rill::examples::bank_service
