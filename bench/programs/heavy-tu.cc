// Compiler input, not a benchmark binary: the large C++ translation unit that
// the "C++ compiler" section (bench/sections/cxx-compile.ts) has cc1plus
// compile at -O2, preprocessed once beforehand. Parsing the standard headers
// (<regex> and <future> the largest) and optimizing the instantiations below
// make GCC allocate millions of times, as on real C++ code. Sized for a few
// seconds bare: instantiating std::regex too doubles the time.
#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace heavy {

// One instantiation per (key, value) pair in main: maps, hashing, sorting,
// formatting and type erasure over each.
template <typename Key, typename Value>
struct Table {
  std::map<Key, std::vector<Value>> ordered;
  std::unordered_map<Key, std::shared_ptr<Value>> hashed;
  std::vector<std::function<Value(const Value &)>> steps;

  void add(const Key &key, const Value &value) {
    ordered[key].push_back(value);
    hashed.emplace(key, std::make_shared<Value>(value));
  }

  std::vector<Value> sorted(const Key &key) const {
    auto found = ordered.find(key);
    if (found == ordered.end()) return {};
    std::vector<Value> values = found->second;
    std::stable_sort(values.begin(), values.end());
    for (const auto &step : steps) std::transform(values.begin(), values.end(), values.begin(), step);
    return values;
  }

  std::string describe() const {
    std::ostringstream out;
    for (const auto &[key, values] : ordered) out << std::setw(8) << key << ": " << values.size() << '\n';
    return out.str();
  }
};

// Futures and threads: the shared-state and invoker machinery.
template <typename Value>
Value in_parallel(const std::vector<Value> &values) {
  auto half = values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2);
  auto first = std::async(std::launch::async, [&] { return std::accumulate(values.begin(), half, Value{}); });
  Value second{};
  std::thread worker([&] { second = std::accumulate(half, values.end(), Value{}); });
  worker.join();
  return first.get() + second;
}

// Random engines and distributions, timed with chrono.
template <typename Engine, typename Value>
std::vector<Value> draw(std::size_t n, unsigned seed) {
  Engine engine(seed);
  std::vector<Value> values(n);
  if constexpr (std::is_integral_v<Value>) {
    std::uniform_int_distribution<Value> pick(0, 1000);
    std::generate(values.begin(), values.end(), [&] { return pick(engine); });
  } else {
    std::normal_distribution<Value> pick(0, 1);
    std::generate(values.begin(), values.end(), [&] { return pick(engine); });
  }
  return values;
}

template <typename Key, typename Value, typename Engine>
double exercise(unsigned seed) {
  auto start = std::chrono::steady_clock::now();
  Table<Key, Value> table;
  table.steps.push_back([](const Value &v) { return v + v; });
  auto values = draw<Engine, Value>(64, seed);
  for (std::size_t i = 0; i < values.size(); i++) table.add(static_cast<Key>(i % 7), values[i]);
  auto sorted = table.sorted(static_cast<Key>(seed % 7));
  Value total = sorted.empty() ? Value{} : in_parallel(sorted);
  std::cout << table.describe() << std::fixed << std::setprecision(3) << total << '\n';
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace heavy

int main() {
  unsigned seed = 1;
  double total = 0;
  // Each engine is its own set of instantiations to build, inline and optimize.
  total += heavy::exercise<long, double, std::mt19937>(seed++);
  total += heavy::exercise<long, double, std::minstd_rand>(seed++);
  std::cout << total << '\n';
  return 0;
}
