#include "reference_domains.h"
#include "rill/examples/bank/bank_workload.h"
#include "rill/tools/tool_main.h"

std::unique_ptr<rill::tools::DomainTools> BankTools() {
  return rill::tools::ToolsFor<rill::examples::bank::BankWorkload>("bank");
}
