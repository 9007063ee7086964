// Function names as people read them in a flame graph: C++ symbols
// demangled down to the qualified name, without parameters, return type,
// cv/ref qualifiers or GCC clone suffixes. Other names pass through.
#pragma once

#include <string>

namespace leakhound {

std::string plain_function_name(const std::string& symbol);

}  // namespace leakhound
