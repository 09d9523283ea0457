// Bandwidths with their unit: bytes vs bits, decimal vs binary prefixes, the old *-gbps names
// as GB/s, and one clear line for a missing or unknown unit.
#include <doctest/doctest.h>

#include "cli/units.hpp"
#include "support.hpp"

using namespace ppsim::cli;

TEST_CASE("bandwidths: bytes and bits, every prefix, spaces and ps") {
  CHECK(parse_bandwidth("50GB/s", "--x", false) == doctest::Approx(50e9));
  CHECK(parse_bandwidth("50 GB/s", "--x", false) == doctest::Approx(50e9));
  CHECK(parse_bandwidth("50GBps", "--x", false) == doctest::Approx(50e9));
  CHECK(parse_bandwidth("400Gb/s", "--x", false) == doctest::Approx(50e9));  // InfiniBand NDR: 400 gigabits
  CHECK(parse_bandwidth("400Gbps", "--x", false) == doctest::Approx(50e9));
  CHECK(parse_bandwidth("1.6TB/s", "--x", false) == doctest::Approx(1.6e12));
  CHECK(parse_bandwidth("900MB/s", "--x", false) == doctest::Approx(9e8));
  CHECK(parse_bandwidth("1GiB/s", "--x", false) == doctest::Approx(1073741824.0));
  CHECK(parse_bandwidth("8Mb/s", "--x", false) == doctest::Approx(1e6));
  CHECK(parse_bandwidth("2000kB/s", "--x", false) == doctest::Approx(2e6));
}

TEST_CASE("bandwidths: a bare number is GB/s only under the old names") {
  CHECK(parse_bandwidth("50", "--p2p-bandwidth-gbps", true) == doctest::Approx(50e9));
  CHECK(parse_bandwidth("12.5", "--inter-gbps", true) == doctest::Approx(12.5e9));
  const std::string bare = ppsim::test::error_of([] { parse_bandwidth("50", "--p2p-bandwidth", false); });
  CHECK(bare == "--p2p-bandwidth = '50' has no unit; write 50GB/s for bytes or 50Gb/s for bits (allowed: a unit: B/s, KB/s, "
                "MB/s, GB/s, TB/s (bytes; KiB/s ... binary), Kb/s ... Tb/s (bits), or ...ps)");
}

TEST_CASE("bandwidths: refused with one line naming the flag") {
  CHECK(ppsim::test::error_of([] { parse_bandwidth("50GB", "--x", false); }).find("unknown unit 'GB'") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("50 PB/s", "--x", false); }).find("unknown unit") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("50kiB/s", "--x", false); }).find("unknown unit") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("fast", "--x", false); }).find("--x = 'fast' is not a bandwidth") !=
        std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("0GB/s", "--x", false); }).find("allowed > 0") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("-5GB/s", "--x", false); }).find("allowed > 0") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("nan GB/s", "--x", false); }).find("is not a bandwidth") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("0x10GB/s", "--x", false); }).find("unknown unit 'x10GB/s'") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("1e-300GB/s", "--x", false); }).find("at least 1 MB/s") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("8b/s", "--x", false); }).find("at least 1 MB/s") != std::string::npos);
  CHECK(ppsim::test::error_of([] { parse_bandwidth("2000TB/s", "--x", false); }).find("at most 1 PB/s") != std::string::npos);
}

TEST_CASE("a new flag and its old name: either, not both") {
  const std::vector<FlagSpec> specs = {{"p2p-bandwidth", true, ""}, {"p2p-bandwidth-gbps", true, ""}};
  CHECK(*bandwidth_flag(Args({"--p2p-bandwidth", "400Gb/s"}, specs, "t"), "p2p-bandwidth", "p2p-bandwidth-gbps") ==
        doctest::Approx(50e9));
  CHECK(*bandwidth_flag(Args({"--p2p-bandwidth-gbps", "50"}, specs, "t"), "p2p-bandwidth", "p2p-bandwidth-gbps") ==
        doctest::Approx(50e9));
  CHECK_FALSE(bandwidth_flag(Args({}, specs, "t"), "p2p-bandwidth", "p2p-bandwidth-gbps"));
  CHECK(ppsim::test::error_of([&] {
          bandwidth_flag(Args({"--p2p-bandwidth", "5GB/s", "--p2p-bandwidth-gbps", "5"}, specs, "t"), "p2p-bandwidth",
                         "p2p-bandwidth-gbps");
        }) == "give --p2p-bandwidth or its old name --p2p-bandwidth-gbps, not both");
}

// validate --model: the stage sized from a model, scaled only as far as the limits require.
#include "cli/validate_sizing.hpp"
#include "sim/generators.hpp"

TEST_CASE("validate sizing: DeepSeek-V3 on four ranks sharing one 141 GB GPU") {
  const ppsim::sim::Schedule s = ppsim::sim::make_schedule({ppsim::sim::ScheduleKind::DualPipe, 4, 8});
  CHECK(copies_per_rank(s) == 2);  // DualPipe: each rank holds two stages
  const double budget = 0.8 * 141e9 / 4;
  const StageSize z = size_from_model(ppsim::model::find_model("deepseek-v3"), s, budget, 50);
  const ppsim::runtime::ExecOptions& o = z.options;
  CHECK(o.experts == 16);
  CHECK(o.top_k == 8);
  CHECK(o.ffn == 2 * o.hidden);
  CHECK(o.hidden % 4 == 0);
  CHECK(z.f_gflop <= 50);
  CHECK(z.f_gflop == doctest::Approx(f_gflop(o)));
  CHECK(rank_bytes(o, 2, max_peak_in_flight(s)) <= budget);
  // Scaled only as far as needed: the step before the last halving (twice the width or twice
  // the tokens) did not fit.
  auto fits = [&](ppsim::runtime::ExecOptions b) { return f_gflop(b) <= 50 && rank_bytes(b, 2, max_peak_in_flight(s)) <= budget; };
  ppsim::runtime::ExecOptions wider = o, longer = o;
  wider.hidden *= 2;
  wider.ffn *= 2;
  longer.rows *= 2;
  CHECK_FALSE((fits(wider) && fits(longer)));
  CHECK(o.hidden == 448);  // 896 wide would be 52.6 GFLOP per F
  CHECK(o.rows == 1024);
  REQUIRE(z.scaled.size() == 3);  // experts, width, tokens
  CHECK(z.scaled[0] == "experts 256 -> 16 (kept at most 16)");
  CHECK(z.scaled[1].rfind("width 7168 -> " + std::to_string(o.hidden), 0) == 0);
  CHECK(describe(z).find("16 experts top-8") != std::string::npos);
}

TEST_CASE("validate sizing: a dense model that fits keeps its shape; one that cannot fit is refused") {
  const ppsim::sim::Schedule s = ppsim::sim::make_schedule({ppsim::sim::ScheduleKind::OneFOneB, 2, 4});
  const StageSize z = size_from_model(ppsim::model::find_model("llama3-8b"), s, 1e12, 1e6);
  CHECK(z.options.hidden == 4096);
  CHECK(z.options.rows == 4096);  // Llama 3's 8,192 tokens over the runtime's 4,096 limit
  CHECK(z.options.experts == 1);
  REQUIRE(z.scaled.size() == 1);
  CHECK(z.scaled[0].rfind("tokens per micro-batch 8192 -> 4096", 0) == 0);
  const std::string error =
      ppsim::test::error_of([&] { size_from_model(ppsim::model::find_model("llama3-8b"), s, 1e3, 50); });
  CHECK(error.rfind("--model llama3-8b: even width 64 and 64 tokens need", 0) == 0);
}
