// Work limits: estimates past a limit are refused in one line naming the factor that would do;
// --work-limit scales every limit; a schedule declaring far more cells than it lists ops is
// refused without a table of them all.
#include <doctest/doctest.h>

#include "sim/generators.hpp"
#include "sim/validate.hpp"
#include "sim/work_limit.hpp"
#include "support.hpp"

using namespace ppsim::sim;

TEST_CASE("check_work: within the limit passes; past it, one line with the factor that would do") {
  set_work_limit(1);
  check_work("x", kLimitOps, kLimitOps, "ops");
  CHECK(ppsim::test::error_of([] { check_work("--ranks 9: ops", 2.5 * kLimitOps, kLimitOps, "ops"); }) ==
        "--ranks 9: ops = about 75M ops; allowed at most 30M ops on this machine class (raise with --work-limit 2.5)");
  CHECK(ppsim::test::error_of([] { check_work("m", 30.0 * (1ull << 30), kLimitBytes, "bytes"); }) ==
        "m = about 30 GiB; allowed at most 24 GiB on this machine class (raise with --work-limit 1.3)");
  set_work_limit(3);
  check_work("x", 2.5 * kLimitOps, kLimitOps, "ops");  // raised on purpose
  set_work_limit(1);
  CHECK(ppsim::test::error_of([] { set_work_limit(0); }).find("allowed a factor in (0, 1e6]") != std::string::npos);
  CHECK(short_count(1.5e12) == "1.5T");
  CHECK(short_count(512) == "512");
}

TEST_CASE("generators: the op estimate is checked against the work limit") {
  set_work_limit(1);
  const std::string why = check_request({ScheduleKind::OneFOneB, 4096, 16276, 0});
  CHECK(why.find("ops = about 200M ops; allowed at most 30M ops") != std::string::npos);
  set_work_limit(7);
  CHECK(check_request({ScheduleKind::OneFOneB, 4096, 16276, 0}).empty());
  set_work_limit(1);
}

TEST_CASE("validate: a million declared micro-batches and one op per rank is refused without its table") {
  Schedule s;
  s.kind = "custom";
  s.ranks = 4;
  s.stages = 4;
  s.microbatches = 1 << 20;
  s.placement = {0, 1, 2, 3};
  s.per_rank.resize(4);
  for (int r = 0; r < 4; ++r) s.per_rank[r].push_back(Op{OpKind::F, (1 << 20) - 1, r});
  const ValidationReport report = validate(s);
  REQUIRE(report.errors.size() == 1);
  CHECK(report.errors[0] == "1048576 micro-batches x 4 stages need at least 8388608 op halves (an F and a backward each); "
                            "the schedule lists 4");
}
