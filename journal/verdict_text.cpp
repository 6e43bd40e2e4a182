// The words for a JournalCheck's verdict (journal_verifier.h), shared by recovery's errors and
// the tools' output, so they say the same thing about the same journal.
#include <string>

#include "rill/journal/journal_verifier.h"

namespace rill::journal {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kEmpty:
      return "empty";
    case Verdict::kIntact:
      return "intact";
    case Verdict::kTornTail:
      return "torn tail";
    case Verdict::kDamagedTail:
      return "damaged tail";
    case Verdict::kDamaged:
      return "damaged";
  }
  return "?";
}

std::string DescribeVerdict(const JournalCheck& c) {
  std::string s = VerdictName(c.verdict);
  auto where = [](const std::string& seg, std::uint64_t offset, std::uint64_t position) {
    std::string w =
        seg.empty() ? std::string("the journal directory") : "segment " + seg + " offset " + std::to_string(offset);
    if (position != 0) w += " position " + std::to_string(position);
    return w;
  };
  if (c.damage)
    s += ": " + where(c.damage->segment, c.damage->offset, c.damage->position) + ": " + c.damage->reason;
  else if (c.tail)
    s += ": " + where(c.tail->segment, c.tail->offset, c.tail->first_position) + ": " + c.tail->reason;
  return s;
}

std::string DescribeSalvage(const JournalCheck& c) {
  const SalvagePlan& s = c.salvage;
  const std::string lost = std::to_string(s.acknowledged_lost) + " of them recorded durable (acknowledged)";
  switch (s.kind) {
    case SalvagePlan::Kind::kCut:
      return "salvage would keep positions up to " + std::to_string(s.next_position - 1) + ", and move " +
             std::to_string(s.files_moved.size()) + " segment file(s) and " + std::to_string(s.events_set_aside) +
             " committed event(s) aside, " + lost;
    case SalvagePlan::Kind::kAcceptMissingEnd:
      return "salvage would keep every segment and accept that positions " + std::to_string(s.next_position) +
             " and later are gone: " + std::to_string(s.acknowledged_lost) +
             " event(s) recorded durable (acknowledged) are lost";
    case SalvagePlan::Kind::kAcceptMissingHead:
      return "salvage would keep every segment and accept that the first " + std::to_string(s.acknowledged_lost) +
             " event(s) are gone (the retention record is moved up)";
    case SalvagePlan::Kind::kImpossible:
      return "salvage cannot help: nothing valid would remain";
  }
  return "";
}

}  // namespace rill::journal
