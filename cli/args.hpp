#pragma once
// Command-line flags: "--name value" pairs and bare "--switch"es, checked against the
// flags a command declares. Errors are std::invalid_argument with one clear line.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ppsim::cli {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value = true;
  std::string help;
};

class Args {
 public:
  Args(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs, const std::string& command);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  // Every flag given, by name ("" for a switch).
  const std::map<std::string, std::string>& values() const { return values_; }
  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  // The flag as an integer in [lo, hi], or fallback when absent.
  int get_int(const std::string& name, int fallback, int lo, int hi) const;
  // The flag as a decimal number in [lo, hi] (no hex, inf or trailing text), or fallback.
  double get_double(const std::string& name, double fallback, double lo, double hi) const;
  // The flag's value, which must be one of `allowed`.
  std::string get_choice(const std::string& name, const std::string& fallback,
                         const std::vector<std::string>& allowed) const;
  // "a,b,c": each an integer in [lo, hi]; empty when the flag is absent.
  std::vector<int> get_int_list(const std::string& name, int lo, int hi) const;

 private:
  std::map<std::string, std::string> values_;
};

std::string usage_lines(const std::vector<FlagSpec>& specs);

// "a,,b" -> {"a", "b"}.
std::vector<std::string> split_list(const std::string& list);

}  // namespace ppsim::cli
