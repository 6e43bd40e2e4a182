#include "rill/tools/crashtest/round_plan.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace rill::tools::crashtest {
namespace {

constexpr std::uint64_t kPlanMagic = 0x4e414c504c4c4952ull;  // "RILLPLAN"
constexpr std::uint32_t kMaxProducers = 1024;

struct PlanHeader {
  std::uint64_t magic = kPlanMagic;
  std::uint32_t producers = 0;
  std::uint32_t reserved = 0;
  std::uint64_t retries = 0;
};
static_assert(sizeof(PlanHeader) == 24);

}  // namespace

Status WriteRoundPlan(const std::string& path, const RoundPlan& plan) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return Status::FromErrno("create " + path, errno);
  PlanHeader h;
  h.producers = static_cast<std::uint32_t>(plan.start.size());
  h.retries = plan.retries.size();
  bool ok = std::fwrite(&h, sizeof h, 1, f) == 1;
  ok = ok && std::fwrite(plan.start.data(), sizeof(std::uint64_t), plan.start.size(), f) == plan.start.size();
  ok = ok && std::fwrite(plan.retries.data(), sizeof(WireRecord), plan.retries.size(), f) == plan.retries.size();
  ok = std::fclose(f) == 0 && ok;
  return ok ? Status::OK() : Status::IOError("cannot write the round plan " + path);
}

Result<RoundPlan> ReadRoundPlan(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::FromErrno("open the round plan " + path, errno);
  PlanHeader h;
  RoundPlan plan;
  bool ok = std::fread(&h, sizeof h, 1, f) == 1 && h.magic == kPlanMagic && h.producers <= kMaxProducers &&
            h.retries <= (std::uint64_t{1} << 30);
  if (ok) {
    plan.start.resize(h.producers);
    plan.retries.resize(h.retries);
    ok = std::fread(plan.start.data(), sizeof(std::uint64_t), h.producers, f) == h.producers &&
         std::fread(plan.retries.data(), sizeof(WireRecord), h.retries, f) == h.retries && std::fgetc(f) == EOF;
  }
  std::fclose(f);
  if (!ok) return Status::Corruption(path + " is not a whole crash test round plan");
  return plan;
}

}  // namespace rill::tools::crashtest
