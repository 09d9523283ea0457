#pragma once
// Strict reading of one JSON object: every key must be known (did-you-mean otherwise), every
// value of the right type and range; errors name the path, the value and what is allowed.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ppsim::model {

class JsonReader {
 public:
  JsonReader(const nlohmann::json& obj, std::string path, std::vector<std::string> allowed);

  double number(const std::string& key, double lo, double hi) const;
  double number_or(const std::string& key, double fallback, double lo, double hi) const;
  long long integer(const std::string& key, long long lo, long long hi) const;
  long long integer_or(const std::string& key, long long fallback, long long lo, long long hi) const;
  std::string string(const std::string& key) const;
  std::string string_or(const std::string& key, const std::string& fallback) const;
  bool boolean_or(const std::string& key, bool fallback) const;
  std::string choice_or(const std::string& key, const std::string& fallback, const std::vector<std::string>& allowed) const;
  bool has(const std::string& key) const { return obj_.contains(key); }
  JsonReader object(const std::string& key, std::vector<std::string> allowed) const;
  const std::string& path() const { return path_; }

 private:
  const nlohmann::json& at(const std::string& key) const;
  const nlohmann::json& obj_;
  std::string path_;
};

// "14.8T", "300B", "2e12" or a plain number of tokens -> tokens.
double parse_token_count(const std::string& text, const std::string& what);

}  // namespace ppsim::model
