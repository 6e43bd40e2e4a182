// inventory-rill: rill's tools for the inventory domain (replay, bench, crashtest, demo, and the
// generic inspect and recover), from its workload.
#include "inventory_workload.h"
#include "rill/tools/tool_main.h"

int main(int argc, char** argv) {
  return rill::tools::Main(argc, argv, "inventory-rill",
                           rill::tools::ToolsFor<inventory::InventoryWorkload>("inventory"));
}
