#include "traces/svg.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace ppsim::traces {

using sim::Interval;
using sim::Lane;
using sim::OpKind;

namespace {

// Four hues, each in a strong and a pale (second direction) shade, so that no pale shade of
// one kind can be taken for another kind: the full backward green, the input-grad backward
// purple (a pale full backward and an input-grad backward used to be two similar greens).
const char* colour(OpKind kind, bool pale) {
  switch (kind) {
    case OpKind::F: return pale ? "#9fbbd8" : "#4e79a7";
    case OpKind::B: return pale ? "#a6d49e" : "#3f8f3a";
    case OpKind::Bi: return pale ? "#d3b8e0" : "#8e5ea2";
    case OpKind::W: return pale ? "#f7c594" : "#e8770e";
    case OpKind::FB: return "#000";
  }
  return "#999";
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

// 1, 2, 5 x 10^k: about `target` ticks across the span.
sim::Time tick_step(sim::Time span, int target) {
  const double raw = static_cast<double>(std::max<sim::Time>(span, 1)) / target;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return std::max<sim::Time>(1, static_cast<sim::Time>(m * p));
  return static_cast<sim::Time>(10 * p);
}

}  // namespace

std::string to_svg(const sim::Timeline& t, const SvgOptions& o) {
  const int label_w = 70, top = o.title.empty() ? 10 : 34, axis_h = 34, legend_h = 26;
  const sim::Time span = std::max<sim::Time>(t.makespan(), 1);
  const double scale = static_cast<double>(o.width) / static_cast<double>(span);
  const int height = top + t.ranks * o.row_height + axis_h + legend_h;
  std::ostringstream svg;
  svg.setf(std::ios::fixed);
  svg.precision(2);
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << label_w + o.width + 20 << "\" height=\"" << height
      << "\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!o.title.empty()) svg << "<text x=\"" << label_w << "\" y=\"20\" font-size=\"14\">" << escape(o.title) << "</text>\n";
  for (int r = 0; r < t.ranks; ++r) {
    const int y = top + r * o.row_height;
    svg << "<rect x=\"" << label_w << "\" y=\"" << y + 2 << "\" width=\"" << o.width << "\" height=\"" << o.row_height - 4
        << "\" fill=\"#f0f0f0\"/>\n<text x=\"" << label_w - 8 << "\" y=\"" << y + o.row_height / 2 + 4
        << "\" text-anchor=\"end\">rank " << r << "</text>\n";
  }
  auto pale = [&](int mb) { return o.reverse_from_mb >= 0 && mb >= o.reverse_from_mb; };
  auto box = [&](double x, double w, int y, const char* fill) {
    svg << "<rect x=\"" << x << "\" y=\"" << y + 2 << "\" width=\"" << std::max(w, 0.5) << "\" height=\"" << o.row_height - 4
        << "\" fill=\"" << fill << "\" stroke=\"white\" stroke-width=\"0.5\"/>\n";
  };
  for (const Interval& iv : t.intervals) {
    if (iv.lane != Lane::Compute) continue;
    const double x = label_w + static_cast<double>(iv.start) * scale;
    const double w = static_cast<double>(iv.end - iv.start) * scale;
    const int y = top + iv.rank * o.row_height;
    std::string label;
    if (iv.op.kind == OpKind::FB) {  // the pair: forward colour, then backward colour
      box(x, w / 2, y, colour(OpKind::F, pale(iv.op.mb)));
      box(x + w / 2, w / 2, y, colour(iv.op.b_kind, pale(iv.op.b_mb)));
      svg << "<rect x=\"" << x << "\" y=\"" << y + 2 << "\" width=\"" << std::max(w, 0.5) << "\" height=\""
          << o.row_height - 4 << "\" fill=\"none\" stroke=\"black\" stroke-width=\"1\"/>\n";
      label = std::to_string(iv.op.mb) + "|" + std::to_string(iv.op.b_mb);
    } else {
      box(x, w, y, colour(iv.op.kind, pale(iv.op.mb)));
      label = std::to_string(iv.op.mb);
    }
    // Dark text on the pale (second-direction) boxes, white on the others.
    const bool on_pale = pale(iv.op.mb) || (iv.op.kind == OpKind::FB && pale(iv.op.b_mb));
    if (w >= 7.0 * static_cast<double>(label.size()) + 2)
      svg << "<text x=\"" << x + w / 2 << "\" y=\"" << y + o.row_height / 2 + 4 << "\" text-anchor=\"middle\" fill=\""
          << (on_pale ? "#222" : "white") << "\">" << label << "</text>\n";
  }
  // Time axis in the unit that fits the span (from 2 of it up, so that the ticks are not all
  // fractions).
  const sim::TimeUnit unit = sim::unit_for(span / 2);
  const int axis_y = top + t.ranks * o.row_height + 4;
  svg << "<line x1=\"" << label_w << "\" y1=\"" << axis_y << "\" x2=\"" << label_w + o.width << "\" y2=\"" << axis_y
      << "\" stroke=\"black\"/>\n";
  const sim::Time step = tick_step(span, 10);
  for (sim::Time tick = 0; tick <= span; tick += step) {
    const double x = label_w + static_cast<double>(tick) * scale;
    svg << "<line x1=\"" << x << "\" y1=\"" << axis_y << "\" x2=\"" << x << "\" y2=\"" << axis_y + 5
        << "\" stroke=\"black\"/><text x=\"" << x << "\" y=\"" << axis_y + 17 << "\" text-anchor=\"middle\">"
        << sim::format_in(tick, unit) << "</text>\n";
  }
  svg << "<text x=\"" << label_w + o.width << "\" y=\"" << axis_y + 30 << "\" text-anchor=\"end\">time (" << unit.name
      << ")</text>\n";
  // Legend.
  int lx = label_w;
  const int ly = axis_y + 22;
  for (auto [kind, name] : {std::pair{OpKind::F, "forward"}, {OpKind::B, "backward"}, {OpKind::Bi, "input-grad backward"},
                            {OpKind::W, "weight grad"}}) {
    svg << "<rect x=\"" << lx << "\" y=\"" << ly << "\" width=\"12\" height=\"12\" fill=\"" << colour(kind, false)
        << "\"/><text x=\"" << lx + 16 << "\" y=\"" << ly + 10 << "\">" << name << "</text>\n";
    lx += 30 + 7 * static_cast<int>(std::string(name).size());
  }
  svg << "<rect x=\"" << lx << "\" y=\"" << ly << "\" width=\"12\" height=\"12\" fill=\"none\" stroke=\"black\"/><text x=\""
      << lx + 16 << "\" y=\"" << ly + 10 << "\">overlapped F&amp;B pair (f|b)</text>\n";
  if (o.reverse_from_mb >= 0) {  // the pale shades too, each beside its kind's name
    lx += 230;
    svg << "<text x=\"" << lx << "\" y=\"" << ly + 10 << "\">second direction (micro-batch &gt;= " << o.reverse_from_mb
        << "):</text>\n";
    lx += 230;
    for (auto [kind, name] : {std::pair{OpKind::F, "F"}, {OpKind::B, "B"}, {OpKind::Bi, "Bi"}, {OpKind::W, "W"}}) {
      svg << "<rect x=\"" << lx << "\" y=\"" << ly << "\" width=\"12\" height=\"12\" fill=\"" << colour(kind, true)
          << "\"/><text x=\"" << lx + 16 << "\" y=\"" << ly + 10 << "\">" << name << "</text>\n";
      lx += 40;
    }
  }
  svg << "</svg>\n";
  return svg.str();
}

}  // namespace ppsim::traces
