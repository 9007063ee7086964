#include "demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <string_view>

namespace leakhound {
namespace {

bool ends_with(std::string_view text, std::string_view tail) {
  return text.size() >= tail.size() && text.substr(text.size() - tail.size()) == tail;
}

bool is_identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// "f(int) const [clone .cold]" -> "f(int)".
std::string_view drop_suffixes(std::string_view text) {
  for (bool changed = true; changed;) {
    changed = false;
    size_t clone = text.rfind(" [clone ");
    if (ends_with(text, "]") && clone != std::string_view::npos) {
      text = text.substr(0, clone);
      changed = true;
    }
    for (std::string_view qualifier : {" const", " volatile", " &&", " &"}) {
      if (ends_with(text, qualifier)) {
        text.remove_suffix(qualifier.size());
        changed = true;
      }
    }
  }
  return text;
}

// Where the parameter list that ends `text` opens, or npos.
size_t parameters_start(std::string_view text) {
  if (!ends_with(text, ")")) return std::string_view::npos;
  int depth = 0;
  for (size_t i = text.size(); i-- > 0;) {
    if (text[i] == ')') ++depth;
    if (text[i] == '(' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// Where an operator name ("operator<<", "operator new") starts, or npos:
// its symbols must not count as brackets.
size_t operator_start(std::string_view name) {
  constexpr std::string_view keyword = "operator";
  for (size_t at = name.rfind(keyword); at != std::string_view::npos;
       at = at == 0 ? std::string_view::npos : name.rfind(keyword, at - 1)) {
    size_t after = at + keyword.size();
    bool starts_word = at == 0 || name[at - 1] == ':' || name[at - 1] == ' ';
    bool ends_word = after == name.size() || !is_identifier_char(name[after]);
    if (starts_word && ends_word) return at;
  }
  return std::string_view::npos;
}

// Template instances carry their return type: "Widget* build<Widget>".
// The qualified name follows the last space outside any brackets.
std::string_view drop_return_type(std::string_view name) {
  size_t end = operator_start(name);
  if (end == std::string_view::npos) end = name.size();
  constexpr std::string_view closers = ">)]}", openers = "<([{";
  int depth = 0;
  for (size_t i = end; i-- > 0;) {
    char c = name[i];
    if (closers.find(c) != std::string_view::npos) {
      ++depth;
    } else if (openers.find(c) != std::string_view::npos) {
      if (depth == 0) return name;  // unbalanced: leave it as the demangler wrote it
      --depth;
    } else if (c == ' ' && depth == 0) {
      return name.substr(i + 1);
    }
  }
  return name;
}

}  // namespace

std::string plain_function_name(const std::string& symbol) {
  // .symtab spells symbol versions into names: "memcpy@GLIBC_2.2.5".
  std::string name = symbol.substr(0, symbol.find('@'));
  if (name.empty()) return symbol;
  if (name.compare(0, 2, "_Z") != 0) return name;
  int status = 0;
  std::unique_ptr<char, decltype(&free)> demangled(
      abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status), free);
  if (status != 0 || !demangled) return name;
  std::string_view text = drop_suffixes(demangled.get());
  size_t open = parameters_start(text);
  if (open == std::string_view::npos || open == 0) return std::string(text);
  return std::string(drop_return_type(text.substr(0, open)));
}

}  // namespace leakhound
