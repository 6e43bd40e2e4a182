// Request/reply exchanges for the bank service's clients (client.h).
#include "rill/examples/bank_service/client.h"

#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <string>

namespace rill::examples::bank_service {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

class ClientCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "rill.bank_service.client"; }
  std::string message(int ev) const override {
    switch (static_cast<ClientError>(ev)) {
      case ClientError::kBadReplyLength:
        return "reply frame length out of range";
      case ClientError::kMalformedReply:
        return "reply failed FlatBuffers verification";
    }
    return "unknown client error";
  }
};

error_code MakeError(ClientError e) { return {static_cast<int>(e), client_category()}; }

// After the 4-byte header is in reader.buffer: checks the length, sizes the buffer.
bool PrepareBody(ReplyReader& reader, std::uint32_t& length, error_code& ec) {
  length = ReadFrameLength(reader.buffer.data());
  if (CheckFrameLength(length, reader.max_frame_bytes) != FrameCheck::kOk) {
    ec = MakeError(ClientError::kBadReplyLength);
    return false;
  }
  if (reader.buffer.size() < kFrameHeaderSize + length) reader.buffer.resize(kFrameHeaderSize + length);
  return true;
}

// The body goes right after the header: the frame is verified whole (protocol.h).
asio::mutable_buffer Body(ReplyReader& reader, std::uint32_t length) {
  return asio::buffer(reader.buffer.data() + kFrameHeaderSize, length);
}

const wire::Reply* Finish(ReplyReader& reader, std::uint32_t length, error_code& ec) {
  const wire::Reply* reply = VerifyReply({reader.buffer.data(), kFrameHeaderSize + length});
  if (reply == nullptr) ec = MakeError(ClientError::kMalformedReply);
  return reply;
}

}  // namespace

const boost::system::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

asio::awaitable<const wire::Reply*> AsyncCall(asio::ip::tcp::socket& socket, const flatbuffers::FlatBufferBuilder& fbb,
                                              ReplyReader& reader, error_code& ec) {
  constexpr auto token = asio::use_awaitable;
  co_await asio::async_write(socket, asio::buffer(fbb.GetBufferPointer(), fbb.GetSize()),
                             asio::redirect_error(token, ec));
  if (ec) co_return nullptr;
  co_await asio::async_read(socket, asio::buffer(reader.buffer.data(), kFrameHeaderSize),
                            asio::redirect_error(token, ec));
  std::uint32_t length = 0;
  if (ec || !PrepareBody(reader, length, ec)) co_return nullptr;
  co_await asio::async_read(socket, Body(reader, length), asio::redirect_error(token, ec));
  if (ec) co_return nullptr;
  co_return Finish(reader, length, ec);
}

const wire::Reply* ReadReply(asio::ip::tcp::socket& socket, ReplyReader& reader, error_code& ec) {
  asio::read(socket, asio::buffer(reader.buffer.data(), kFrameHeaderSize), ec);
  std::uint32_t length = 0;
  if (ec || !PrepareBody(reader, length, ec)) return nullptr;
  asio::read(socket, Body(reader, length), ec);
  if (ec) return nullptr;
  return Finish(reader, length, ec);
}

const wire::Reply* CallRaw(asio::ip::tcp::socket& socket, std::span<const std::uint8_t> bytes, ReplyReader& reader,
                           error_code& ec) {
  asio::write(socket, asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec) return nullptr;
  return ReadReply(socket, reader, ec);
}

const wire::Reply* Call(asio::ip::tcp::socket& socket, const flatbuffers::FlatBufferBuilder& fbb, ReplyReader& reader,
                        error_code& ec) {
  return CallRaw(socket, {fbb.GetBufferPointer(), fbb.GetSize()}, reader, ec);
}

}  // namespace rill::examples::bank_service
