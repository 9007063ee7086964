// Compiled at fuzz time into a seed with DWARF, inlined code, C++ names
// and an IFUNC (as glibc's string functions are).
#include <cstdlib>
#include <memory>

namespace seed {
struct Widget {
  static Widget* make() { return new Widget(); }
  int value = 0;
};
template <typename T>
std::unique_ptr<T> build() { return std::make_unique<T>(); }
}  // namespace seed

static inline void* grab(size_t n) { return malloc(n); }

extern "C" {
void* plain_alloc(size_t n) { return malloc(n); }
void* (*pick_alloc())(size_t) { return plain_alloc; }
void* chosen_alloc(size_t n) __attribute__((ifunc("pick_alloc")));
}

int main(int argc, char**) {
  void* raw = grab(static_cast<size_t>(argc) * 16);
  void* chosen = chosen_alloc(8);
  auto owned = seed::build<seed::Widget>();
  return raw && chosen && owned && seed::Widget::make() ? 0 : 1;
}
