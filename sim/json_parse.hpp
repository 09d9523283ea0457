#pragma once
// Parsing a user's JSON text safely: nesting is bounded before the parser sees it, because a
// value nested hundreds of thousands of levels deep (a few hundred KB of brackets) overflows
// the stack when the parsed tree is destroyed or printed. Every reader of user files parses
// through here.
#include <nlohmann/json.hpp>
#include <string>

namespace ppsim::sim {

inline constexpr int kMaxJsonDepth = 256;  // far beyond any ppsim format (schedules nest 4 levels)

// Throws std::invalid_argument: "nested N levels deep at byte B: allowed at most 256", or
// "not valid JSON: <the parser's message>".
nlohmann::json parse_json(const std::string& text);

// Every JSON document ppsim writes carries "schema_version" (README: JSON outputs). It goes up
// when a key changes meaning or goes away; new keys do not change it.
inline constexpr int kSchemaVersion = 1;
// A document read back (a schedule, a catalog, a size shard): its schema_version, if it has
// one (files written before it existed have none), must be one this ppsim reads.
void check_schema_version(const nlohmann::json& doc, const std::string& where);

}  // namespace ppsim::sim
