#include "rill/tools/recover/recover_command.h"

#include <cinttypes>

#include "rill/journal/journal_verifier.h"
#include "rill/journal/recovery.h"
#include "rill/tools/inspect/journal_view.h"

namespace rill::tools {
namespace {

enum Exit : int { kOk = 0, kProblems = 1, kUsage = 2, kCannotRead = 3 };

void PrintError(std::FILE* err, const std::string& what, const std::string& where, const std::string& todo) {
  std::fprintf(err, "rill recover: %s (%s): %s\n", what.c_str(), where.c_str(), todo.c_str());
}

class Printer final : public journal::Reporter {
 public:
  explicit Printer(std::FILE* out) : out_(out) {}
  void TailTruncated(const journal::TailCut& c) override {
    std::fprintf(out_,
                 "set aside    %s: %" PRIu64 " bytes after offset %" PRIu64 " (positions from %" PRIu64 ", %" PRIu64
                 " committed events, none recorded durable)%s, saved in %s\n",
                 c.segment.c_str(), c.bytes_cut, c.offset, c.first_position_cut, c.committed_events,
                 c.damage ? " DAMAGE" : "", c.aside.c_str());
  }
  void Salvaged(const journal::SalvageReport& r) override {
    std::fprintf(out_,
                 "salvaged     %" PRIu64 " committed events moved aside%s%s; %" PRIu64
                 " acknowledged (durable) events could not be kept\n",
                 r.events_set_aside, r.aside_directory.empty() ? "" : " to ", r.aside_directory.c_str(),
                 r.acknowledged_lost);
  }

 private:
  std::FILE* out_;
};

}  // namespace

int RunRecover(const RecoverOptions& o, std::FILE* out, std::FILE* err) {
  if (!inspect::CheckJournalDirectory(o.dir, err)) return kCannotRead;
  Result<journal::JournalCheck> check = journal::CheckJournal(o.dir);
  if (!check.ok()) {
    PrintError(err, std::string(check.status().message()), o.dir,
               check.status().IsNotFound() ? "pass a directory a rill journal writer created" : "check permissions");
    return check.status().IsCorruption() ? kProblems : kCannotRead;
  }
  const journal::JournalCheck& c = *check;
  std::fprintf(out, "journal      %s\n", o.dir.c_str());
  std::fprintf(out, "verdict      %s\n", journal::DescribeVerdict(c).c_str());
  for (const std::string& note : c.notes) std::fprintf(out, "note         %s\n", note.c_str());
  if (c.verdict == journal::Verdict::kEmpty || c.verdict == journal::Verdict::kIntact) {
    std::fprintf(out, "result       nothing to recover\n");
    return kOk;
  }
  if (c.verdict == journal::Verdict::kDamaged)
    std::fprintf(out, "salvage      %s\n", journal::DescribeSalvage(c).c_str());
  else
    std::fprintf(out,
                 "writer       will set aside %" PRIu64 " bytes (%" PRIu64
                 " committed events past the durable "
                 "position) when it opens\n",
                 c.tail->bytes, c.tail->committed_events);
  if (!o.salvage) {
    if (c.verdict != journal::Verdict::kDamaged) return kOk;  // the writer handles it by itself
    std::fprintf(out, "result       dry run: nothing changed; `rill recover %s --salvage` does it\n", o.dir.c_str());
    return kProblems;
  }
  journal::WriterOptions wo;
  wo.directory = o.dir;
  wo.salvage = true;
  Printer printer(out);
  if (Status s = journal::RecoverDirectory(wo, &printer); !s.ok()) {
    PrintError(err, s.ToString(), o.dir, s.IsBusy() ? "stop the writer first" : "restore the journal from a backup");
    return s.IsBusy() || s.IsIOError() ? kCannotRead : kProblems;
  }
  Result<journal::JournalCheck> after = journal::CheckJournal(o.dir);
  std::fprintf(out, "result       %s\n", after.ok() ? journal::DescribeVerdict(*after).c_str() : "unreadable");
  return after.ok() && after->verdict != journal::Verdict::kDamaged ? kOk : kProblems;
}

}  // namespace rill::tools
