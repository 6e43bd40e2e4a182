// Frames of the bank service (protocol.h).
#include "rill/examples/bank_service/protocol.h"

namespace rill::examples::bank_service {
namespace {

// Bounds on what a frame may make the verifier walk; a valid request is ~3 tables.
constexpr flatbuffers::uoffset_t kMaxDepth = 8;
constexpr flatbuffers::uoffset_t kMaxTables = 64;

template <typename T>
const T* Verify(std::span<const std::uint8_t> frame) noexcept {
  flatbuffers::Verifier verifier(frame.data(), frame.size(), kMaxDepth, kMaxTables);
  if (!verifier.VerifySizePrefixedBuffer<T>(nullptr)) return nullptr;  // also checks the prefix
  return flatbuffers::GetSizePrefixedRoot<T>(frame.data());
}

void FinishRequest(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, wire::Body type,
                   flatbuffers::Offset<void> body) {
  wire::RequestBuilder r(fbb);
  r.add_request_id(h.request_id);
  r.add_command_id(h.command_id);
  r.add_expected_version(h.expected_version);
  r.add_ack(h.ack);
  r.add_body_type(type);
  r.add_body(body);
  fbb.FinishSizePrefixed(r.Finish());
}

void FinishReply(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, wire::ReplyBody type,
                 flatbuffers::Offset<void> body) {
  fbb.FinishSizePrefixed(wire::CreateReply(fbb, request_id, type, body));
}

}  // namespace

const wire::Request* VerifyRequest(std::span<const std::uint8_t> frame) noexcept {
  return Verify<wire::Request>(frame);
}
const wire::Reply* VerifyReply(std::span<const std::uint8_t> frame) noexcept { return Verify<wire::Reply>(frame); }

void BuildOpenAccount(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, std::uint64_t account,
                      std::uint64_t owner, std::uint16_t currency) {
  fbb.Clear();
  FinishRequest(fbb, h, wire::Body::OpenAccount, wire::CreateOpenAccount(fbb, account, owner, currency).Union());
}
void BuildDeposit(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, std::uint64_t account,
                  std::int64_t amount) {
  fbb.Clear();
  FinishRequest(fbb, h, wire::Body::Deposit, wire::CreateDeposit(fbb, account, amount).Union());
}
void BuildWithdraw(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, std::uint64_t account,
                   std::int64_t amount) {
  fbb.Clear();
  FinishRequest(fbb, h, wire::Body::Withdraw, wire::CreateWithdraw(fbb, account, amount).Union());
}
void BuildTransfer(flatbuffers::FlatBufferBuilder& fbb, const RequestHeader& h, std::uint64_t from, std::uint64_t to,
                   std::int64_t amount) {
  fbb.Clear();
  FinishRequest(fbb, h, wire::Body::Transfer, wire::CreateTransfer(fbb, from, to, amount).Union());
}
void BuildBalanceQuery(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, std::uint64_t account,
                       std::uint64_t min_position) {
  fbb.Clear();
  FinishRequest(fbb, {.request_id = request_id}, wire::Body::BalanceQuery,
                wire::CreateBalanceQuery(fbb, account, min_position).Union());
}

void BuildOutcomeReply(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, const engine::CommandOutcome& o) {
  fbb.Clear();
  // Only a rejection carries a message; an accepted outcome builds no string.
  const auto message =
      o.accepted() ? flatbuffers::Offset<flatbuffers::String>() : fbb.CreateString(o.rejection().c_str());
  wire::OutcomeBuilder b(fbb);
  b.add_accepted(o.accepted());
  b.add_duplicate(o.duplicate());
  b.add_position(o.position());
  b.add_stream_version(o.stream_version());
  if (!o.accepted()) {
    b.add_reject_code(static_cast<std::uint8_t>(o.code()));
    b.add_domain_code(o.rejection().domain_code);
    b.add_message(message);
  }
  FinishReply(fbb, request_id, wire::ReplyBody::Outcome, b.Finish().Union());
}

void BuildBalanceReply(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, const BalanceAnswer& a) {
  fbb.Clear();
  FinishReply(fbb, request_id, wire::ReplyBody::Balance,
              wire::CreateBalance(fbb, a.account, a.found, a.balance, a.version, a.closed, a.applied_position).Union());
}

void BuildErrorReply(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t request_id, wire::ErrorCode code,
                     std::string_view message) {
  fbb.Clear();
  const auto text = fbb.CreateString(message.data(), message.size());
  FinishReply(fbb, request_id, wire::ReplyBody::Error, wire::CreateError(fbb, code, text).Union());
}

std::optional<bank::Command> ToCommand(const wire::Request& r) noexcept {
  switch (r.body_type()) {
    case wire::Body::OpenAccount: {
      const auto* b = r.body_as_OpenAccount();
      if (b == nullptr) return std::nullopt;  // a type without its table: the verifier allows it
      return bank::OpenAccount{.account = b->account(), .owner = b->owner(), .currency = b->currency()};
    }
    case wire::Body::Deposit: {
      const auto* b = r.body_as_Deposit();
      if (b == nullptr) return std::nullopt;  // a type without its table: the verifier allows it
      return bank::Deposit{.account = b->account(), .amount = b->amount()};
    }
    case wire::Body::Withdraw: {
      const auto* b = r.body_as_Withdraw();
      if (b == nullptr) return std::nullopt;  // a type without its table: the verifier allows it
      return bank::Withdraw{.account = b->account(), .amount = b->amount()};
    }
    case wire::Body::Transfer: {
      const auto* b = r.body_as_Transfer();
      if (b == nullptr) return std::nullopt;  // a type without its table: the verifier allows it
      return bank::Transfer{.from = b->from(), .to = b->to(), .amount = b->amount()};
    }
    default:
      return std::nullopt;
  }
}

std::optional<engine::AckLevel> ToAckLevel(wire::Ack ack) noexcept {
  switch (ack) {
    case wire::Ack::Journaled:
      return engine::AckLevel::kJournaled;
    case wire::Ack::Accepted:
      return engine::AckLevel::kAccepted;
    case wire::Ack::Durable:
      return engine::AckLevel::kDurable;
    case wire::Ack::Applied:
      return engine::AckLevel::kApplied;
    case wire::Ack::Replicated:
      return engine::AckLevel::kReplicated;
    case wire::Ack::ReplicatedDurable:
      return engine::AckLevel::kReplicatedDurable;
  }
  return std::nullopt;
}

}  // namespace rill::examples::bank_service
