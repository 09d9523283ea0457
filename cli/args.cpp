#include "cli/args.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <stdexcept>

#include "sim/did_you_mean.hpp"
#include "sim/numbers.hpp"
#include "sim/one_line.hpp"

namespace ppsim::cli {

Args::Args(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs, const std::string& command) {
  std::vector<std::string> names;
  for (const auto& s : specs) names.push_back("--" + s.name);
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i] == "-h" ? std::string("--help") : argv[i];  // -h: every command's --help
    if (word.rfind("--", 0) != 0)
      throw std::invalid_argument("ppsim " + command + ": unexpected argument '" + word + "': flags look like --name value");
    std::string name = word.substr(2);
    std::optional<std::string> inline_value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == name) spec = &s;
    if (!spec) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw std::invalid_argument("ppsim " + command + ": unknown flag '--" + name + "'" +
                                  sim::did_you_mean("--" + name, names) + "; allowed: " + list);
    }
    if (values_.count(name)) throw std::invalid_argument("ppsim " + command + ": --" + name + " given twice");
    if (!spec->takes_value) {
      if (inline_value) throw std::invalid_argument("ppsim " + command + ": --" + name + " takes no value");
      values_[name] = "";
    } else if (inline_value) {
      values_[name] = *inline_value;
    } else {
      if (i + 1 >= argv.size()) throw std::invalid_argument("ppsim " + command + ": --" + name + " needs a value");
      values_[name] = argv[++i];
    }
  }
}

std::optional<std::string> Args::get(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

int Args::get_int(const std::string& name, int fallback, int lo, int hi) const {
  const auto v = get(name);
  if (!v) return fallback;
  long long x = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  const std::string allowed = "allowed: an integer in " + std::to_string(lo) + ".." + std::to_string(hi);
  if (ec == std::errc::result_out_of_range && end == v->data() + v->size())
    throw std::invalid_argument("--" + name + " = " + *v + " is out of range; " + allowed);
  if (v->empty() || ec != std::errc() || end != v->data() + v->size())
    throw std::invalid_argument("--" + name + " = '" + *v + "' is not an integer; " + allowed);
  if (x < lo || x > hi) throw std::invalid_argument("--" + name + " = " + *v + " is out of range; " + allowed);
  return static_cast<int>(x);
}

double Args::get_double(const std::string& name, double fallback, double lo, double hi) const {
  const auto v = get(name);
  if (!v) return fallback;
  const auto x = sim::parse_decimal(*v);
  if (x && *x >= lo && *x <= hi) return *x;
  std::ostringstream allowed;
  allowed << "allowed: a number in " << lo << ".." << hi;
  throw std::invalid_argument("--" + name + " = '" + sim::one_line(*v) + (x ? "' is out of range; " : "' is not a number; ") +
                              allowed.str());
}

std::string Args::get_choice(const std::string& name, const std::string& fallback,
                             const std::vector<std::string>& allowed) const {
  const std::string v = get_or(name, fallback);
  for (const auto& a : allowed)
    if (a == v) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw std::invalid_argument("--" + name + " = '" + v + "' is not allowed" + sim::did_you_mean(v, allowed) +
                              "; allowed: " + list);
}

std::string usage_lines(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string flag = "  --" + s.name + (s.takes_value ? " VALUE" : "");
    if (flag.size() < 28) flag += std::string(28 - flag.size(), ' ');
    out += flag + " " + s.help + "\n";
  }
  return out;
}

}  // namespace ppsim::cli

namespace ppsim::cli {

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    if (end > start) out.push_back(list.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::vector<int> Args::get_int_list(const std::string& name, int lo, int hi) const {
  std::vector<int> out;
  const auto v = get(name);
  if (!v) return out;
  for (const auto& item : split_list(*v)) {
    int x = 0;
    const auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), x);
    if (ec != std::errc() || end != item.data() + item.size() || x < lo || x > hi)
      throw std::invalid_argument("--" + name + ": '" + item + "' is not an integer in " + std::to_string(lo) + ".." +
                                  std::to_string(hi));
    out.push_back(x);
  }
  if (out.empty()) throw std::invalid_argument("--" + name + " = '" + *v + "' lists no value");
  return out;
}

}  // namespace ppsim::cli
