// rill: the bundled command-line tool, built like a user's own (tools/tool_main.h): rill's
// tools for the reference domains, the bank (the default) and the blog. `rill inspect` and
// `rill recover` read any domain's journal; `replay` picks the domain whose schema reads it.
// Each domain's tools are instantiated in a file of their own (bank_tools.cpp, blog_tools.cpp)
// so the two heavy translation units compile in parallel; a one-domain tool needs only
// `return rill::tools::Main(argc, argv, "name", rill::tools::ToolsFor<W>("domain"));`.
#include "reference_domains.h"

int main(int argc, char** argv) { return rill::tools::Main(argc, argv, "rill", BankTools(), BlogTools()); }
