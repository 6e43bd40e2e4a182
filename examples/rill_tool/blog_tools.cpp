#include "reference_domains.h"
#include "rill/examples/blog/blog_workload.h"
#include "rill/tools/tool_main.h"

std::unique_ptr<rill::tools::DomainTools> BlogTools() {
  return rill::tools::ToolsFor<rill::examples::blog::BlogWorkload>("blog");
}
