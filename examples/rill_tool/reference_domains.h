// The reference domains' tools, each instantiated in its own file (main.cpp says why).
#pragma once

#include <memory>

#include "rill/tools/domain_tools.h"

std::unique_ptr<rill::tools::DomainTools> BankTools();  // bank_tools.cpp
std::unique_ptr<rill::tools::DomainTools> BlogTools();  // blog_tools.cpp
