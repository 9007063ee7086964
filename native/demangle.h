// Function names as people read them in a flame graph: without a symbol
// version, and for C++ demangled down to the qualified name, without
// parameters, return type, cv/ref qualifiers or GCC clone suffixes.
#pragma once

#include <string>

namespace leakhound {

std::string plain_function_name(const std::string& symbol);

}  // namespace leakhound
