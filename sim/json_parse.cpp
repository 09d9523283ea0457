#include "sim/json_parse.hpp"

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/one_line.hpp"

namespace ppsim::sim {

nlohmann::json parse_json(const std::string& text) {
  // One pass over the text: brackets outside strings set the depth.
  int depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw std::invalid_argument("nested more than " + std::to_string(kMaxJsonDepth) + " levels deep at byte " +
                                    std::to_string(i) + ": allowed at most " + std::to_string(kMaxJsonDepth));
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  // A key given twice in one object is refused, as a flag given twice is (the parser would keep
  // the last one silently). The keys of each open object, innermost last:
  std::vector<std::set<std::string>> open_objects;
  std::string twice;
  const auto check = [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if (event == E::object_start) open_objects.emplace_back();
    else if (event == E::object_end && !open_objects.empty()) open_objects.pop_back();
    else if (event == E::key && !open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second &&
             twice.empty())
      twice = parsed.get<std::string>();
    return true;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text, check);
  } catch (const nlohmann::json::exception& e) {  // parse errors, and numbers too large to hold
    throw std::invalid_argument(std::string("not valid JSON: ") + e.what());
  }
  if (!twice.empty()) throw std::invalid_argument("key '" + one_line(twice.substr(0, 60)) + (twice.size() > 60 ? "..." : "") + "' given twice in one object");
  return doc;
}

void check_schema_version(const nlohmann::json& doc, const std::string& where) {
  if (!doc.is_object() || !doc.contains("schema_version")) return;
  const nlohmann::json& v = doc["schema_version"];
  if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > kSchemaVersion)
    throw std::invalid_argument(where + ".schema_version = " + v.dump().substr(0, 40) + ": this ppsim reads 1.." +
                                std::to_string(kSchemaVersion) + " (a newer ppsim wrote it?)");
}

}  // namespace ppsim::sim
