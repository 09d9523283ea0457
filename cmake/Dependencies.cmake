# Third-party libraries, all from Debian packages (installed by scripts/setup).
find_package(Boost 1.74 REQUIRED)            # Boost.Graph is header-only
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
if(PPSIM_BUILD_TESTS)
  find_package(doctest REQUIRED)
  include(doctest)                           # doctest_discover_tests
endif()
if(PPSIM_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
