// main() of the GPU suites: without a usable GPU they print why and exit 77, which ctest
// reports as skipped (SKIP_RETURN_CODE), so CPU-only machines still build and run the suite.
#define DOCTEST_CONFIG_IMPLEMENT
#include <cuda_runtime_api.h>
#include <doctest/doctest.h>

#include <cstdio>

int main(int argc, char** argv) {
  int devices = 0;
  const cudaError_t err = cudaGetDeviceCount(&devices);
  if (err != cudaSuccess || devices == 0) {
    std::printf("skipped: no usable GPU (%s)\n", err != cudaSuccess ? cudaGetErrorString(err) : "none visible");
    return 77;
  }
  doctest::Context context(argc, argv);
  return context.run();
}
