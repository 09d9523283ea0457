#include "sim/schedule_csv.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include "sim/generators.hpp"

namespace ppsim::sim {

namespace {

std::string cell(const Op& h, char type) {
  return std::to_string(h.stage) + type + std::to_string(h.mb);
}

char type_letter(OpKind k) {
  switch (k) {
    case OpKind::F: return 'F';
    case OpKind::B: return 'B';
    case OpKind::Bi: return 'I';
    case OpKind::W: return 'W';
    case OpKind::FB: break;
  }
  return '?';
}

std::string op_cell(const Op& op) {
  if (op.kind != OpKind::FB) return cell(op, type_letter(op.kind));
  return "(" + cell(op.forward_half(), 'F') + ";" + cell(op.backward_half(), type_letter(op.b_kind)) + ")OVERLAP_F_B";
}

struct CellError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

int parse_index(std::string_view digits, std::string_view whole, long long limit) {
  int v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size() || v < 0 || v > limit)
    throw CellError("'" + std::string(whole) + "' has index '" + std::string(digits) + "': expected 0.." +
                    std::to_string(limit));
  return v;
}

// PyTorch's communication, FSDP and gradient-reduction actions (torch 2.15).
const std::set<std::string, std::less<>> kSkipped = {"SEND_F",  "RECV_F",  "SEND_B",      "RECV_B",
                                                     "WAIT_SEND_F", "WAIT_SEND_B", "UNSHARD", "RESHARD",
                                                     "REDUCE_GRAD", "WAIT_REDUCE_GRAD"};

std::string skipped_list() {
  std::string out;
  for (const auto& k : kSkipped) out += (out.empty() ? "" : ", ") + k;
  return out;
}

// One action: <stage><F|B|I|W><mb>. Returns false for a skipped communication action.
bool parse_action(std::string_view text, Op& out) {
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  std::size_t j = i;
  while (j < text.size() && !std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  const std::string_view type = text.substr(i, j - i);
  if (i == 0 || type.empty())
    throw CellError("'" + std::string(text) + "' is not an action: expected <stage><F|B|I|W><micro-batch>, e.g. 2F0");
  if (kSkipped.count(type)) return false;
  static const std::map<std::string_view, OpKind> kinds = {
      {"F", OpKind::F}, {"B", OpKind::B}, {"I", OpKind::Bi}, {"W", OpKind::W}};
  const auto k = kinds.find(type);
  if (k == kinds.end())
    throw CellError("'" + std::string(text) + "' has action type '" + std::string(type) +
                    "': allowed F, B, I, W (and, skipped as communication, " + skipped_list() + ")");
  if (j == text.size()) throw CellError("'" + std::string(text) + "' has no micro-batch index");
  out.kind = k->second;
  out.stage = parse_index(text.substr(0, i), text, kMaxRanks * kMaxStagesPerRank - 1);
  out.mb = parse_index(text.substr(j), text, kMaxMicrobatches - 1);
  return true;
}

bool parse_cell(std::string_view text, Op& out) {
  constexpr std::string_view kOverlap = ")OVERLAP_F_B";
  if (text.front() != '(') return parse_action(text, out);
  if (text.size() < kOverlap.size() + 1 || text.substr(text.size() - kOverlap.size()) != kOverlap)
    throw CellError("'" + std::string(text) + "' is not an overlapped pair: expected (<stage>F<mb>;<stage>B<mb>)OVERLAP_F_B");
  const std::string_view inner = text.substr(1, text.size() - kOverlap.size() - 1);
  const std::size_t semi = inner.find(';');
  Op f, b;
  if (semi == std::string_view::npos || !parse_action(inner.substr(0, semi), f) || !parse_action(inner.substr(semi + 1), b) ||
      f.kind != OpKind::F || (b.kind != OpKind::B && b.kind != OpKind::Bi))
    throw CellError("'" + std::string(text) + "' must pair one forward and one backward: (<stage>F<mb>;<stage>B<mb>)OVERLAP_F_B");
  out = Op::overlapped(f.mb, f.stage, b.kind, b.mb, b.stage);
  return true;
}

std::vector<std::string> split_row(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) cells.push_back(std::exchange(cur, {}));
    else if (c != '\r') cur.push_back(c);
  }
  cells.push_back(cur);
  for (auto& c : cells) {
    const auto b = c.find_first_not_of(" \t");
    c = b == std::string::npos ? std::string{} : c.substr(b, c.find_last_not_of(" \t") - b + 1);
  }
  return cells;
}

// Placement from the ranks that run each (micro-batch, stage).
void infer_placement(Schedule& s) {
  std::vector<std::map<int, std::set<int>>> mbs_by_rank(s.stages);  // stage -> rank -> micro-batches
  for (int r = 0; r < s.ranks; ++r)
    for (const Op& op : s.per_rank[r])
      for (const Op& h : {op.forward_half(), op.backward_half()}) mbs_by_rank[h.stage][r].insert(h.mb);
  s.placement.assign(s.stages, 0);
  s.first_reverse_mb = s.microbatches;
  std::vector<int> reverse(s.stages, -1);
  bool two_way = false;
  for (int st = 0; st < s.stages; ++st) {
    const auto& by_rank = mbs_by_rank[st];
    if (by_rank.empty()) throw std::invalid_argument("stage " + std::to_string(st) + " has no ops on any rank");
    if (by_rank.size() > 2)
      throw std::invalid_argument("stage " + std::to_string(st) + " runs on " + std::to_string(by_rank.size()) +
                                  " ranks: a stage lives on one rank (two for a bidirectional schedule)");
    // The rank that runs micro-batch 0's direction comes first.
    auto first = by_rank.begin();
    auto second = std::next(first);
    if (second != by_rank.end() && *second->second.begin() < *first->second.begin()) std::swap(first, second);
    s.placement[st] = first->first;
    if (second != by_rank.end()) {
      two_way = true;
      reverse[st] = second->first;
      const int split = *second->second.begin();
      if (*first->second.rbegin() >= split)
        throw std::invalid_argument("stage " + std::to_string(st) + " runs on ranks " + std::to_string(first->first) +
                                    " and " + std::to_string(second->first) +
                                    " with interleaved micro-batches: a bidirectional schedule sends micro-batches "
                                    "0..k-1 one way and k..M-1 the other");
      if (s.first_reverse_mb != s.microbatches && s.first_reverse_mb != split)
        throw std::invalid_argument("stage " + std::to_string(st) + " splits directions at micro-batch " +
                                    std::to_string(split) + ", other stages at " + std::to_string(s.first_reverse_mb));
      s.first_reverse_mb = split;
    }
  }
  if (two_way) {
    for (int st = 0; st < s.stages; ++st) reverse[st] = reverse[st] < 0 ? s.placement[st] : reverse[st];
    s.reverse_placement = std::move(reverse);
  }
}

}  // namespace

std::string to_csv(const Schedule& s) {
  std::string out;
  for (const auto& ops : s.per_rank) {
    for (std::size_t i = 0; i < ops.size(); ++i) out += (i ? "," : "") + op_cell(ops[i]);
    out += "\n";
  }
  return out;
}

Schedule schedule_from_csv(const std::string& text) {
  Schedule s;
  s.kind = "csv";
  // A UTF-8 byte order mark (spreadsheets write one) is skipped, as the JSON reader skips it;
  // blank lines at the end are not ranks.
  std::size_t start = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
  std::size_t stop = text.size();
  while (stop > start && (text[stop - 1] == '\n' || text[stop - 1] == '\r' || text[stop - 1] == ' ' || text[stop - 1] == '\t'))
    --stop;
  int row = 0;
  int max_stage = -1, max_mb = -1;
  while (start < stop) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos || end > stop) end = stop;
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    ++row;
    if (s.per_rank.size() >= static_cast<std::size_t>(kMaxRanks))
      throw std::invalid_argument("csv has more than " + std::to_string(kMaxRanks) + " rows (ranks)");
    std::vector<Op> ops;
    const auto cells = split_row(line);
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (cells[c].empty()) continue;
      Op op;
      try {
        if (!parse_cell(cells[c], op)) continue;
      } catch (const CellError& e) {
        throw std::invalid_argument("csv row " + std::to_string(row) + " (rank " + std::to_string(row - 1) +
                                    ") column " + std::to_string(c + 1) + ": " + e.what());
      }
      for (const Op& h : {op.forward_half(), op.backward_half()}) {
        max_stage = std::max(max_stage, h.stage);
        max_mb = std::max(max_mb, h.mb);
      }
      ops.push_back(op);
    }
    s.per_rank.push_back(std::move(ops));
  }
  while (!s.per_rank.empty() && s.per_rank.back().empty()) s.per_rank.pop_back();  // trailing blank lines
  if (s.per_rank.empty() || max_stage < 0) throw std::invalid_argument("csv holds no compute actions (F, B, I, W)");
  s.ranks = static_cast<int>(s.per_rank.size());
  s.stages = max_stage + 1;
  s.microbatches = max_mb + 1;
  infer_placement(s);
  return s;
}

}  // namespace ppsim::sim
