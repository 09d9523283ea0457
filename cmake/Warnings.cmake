# One place for compiler warnings: every ppsim target links ppsim_warnings.
add_library(ppsim_warnings INTERFACE)
target_compile_options(ppsim_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion>
  # nvcc: the host compiler's warnings on the host side of .cu files, and nvcc's own.
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Wshadow>)
if(PPSIM_WERROR)
  target_compile_options(ppsim_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Werror>
                                                  $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings>)
endif()
# GCC 12 reports -Wrestrict inside libstdc++ for ordinary std::string concatenation at -O2
# (GCC bug 105329, a false positive); it is not about our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(ppsim_warnings INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
endif()
