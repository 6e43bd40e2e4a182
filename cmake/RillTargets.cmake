# Helpers that give every rill target the same shape.
include(GNUInstallDirs)

# Warnings apply to rill's own code only, and only when rill is the top-level project,
# so a consumer's stricter or looser flags are never imposed on it.
# BUILD_INTERFACE: an installed rill never passes its warning flags to a consumer.
add_library(rill_warnings INTERFACE)
if(PROJECT_IS_TOP_LEVEL)
  target_compile_options(rill_warnings INTERFACE $<BUILD_INTERFACE:-Wall -Wextra -Wpedantic -Werror>)
endif()

# The include root: every header is included as "rill/<folder>/<file>.h", in the tree and
# once installed. build/<preset>/include/rill is a link to the source root.
set(RILL_INCLUDE_ROOT ${PROJECT_BINARY_DIR}/include)
file(MAKE_DIRECTORY ${RILL_INCLUDE_ROOT})
if(NOT EXISTS ${RILL_INCLUDE_ROOT}/rill)
  file(CREATE_LINK ${PROJECT_SOURCE_DIR} ${RILL_INCLUDE_ROOT}/rill SYMBOLIC)
endif()

# rill_library(name [STATIC sources...] [INTERFACE]) defines rill_<name> with alias rill::<name>.
function(rill_library name)
  cmake_parse_arguments(ARG "INTERFACE" "" "SOURCES" ${ARGN})
  if(ARG_INTERFACE)
    add_library(rill_${name} INTERFACE)
    target_include_directories(rill_${name} INTERFACE $<BUILD_INTERFACE:${RILL_INCLUDE_ROOT}>
                                                      $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    target_link_libraries(rill_${name} INTERFACE Threads::Threads)
  else()
    add_library(rill_${name} STATIC ${ARG_SOURCES})
    target_include_directories(rill_${name} PUBLIC $<BUILD_INTERFACE:${RILL_INCLUDE_ROOT}>
                                                   $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
    target_link_libraries(rill_${name} PUBLIC Threads::Threads PRIVATE rill_warnings)
    set_target_properties(rill_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
  set_target_properties(rill_${name} PROPERTIES EXPORT_NAME ${name})
  add_library(rill::${name} ALIAS rill_${name})
endfunction()

# rill_executable(name sources...): an executable in bin/, with mimalloc when enabled.
function(rill_executable name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE rill_warnings)
  if(RILL_USE_MIMALLOC)
    # Linking the shared mimalloc overrides malloc/new process-wide via the dynamic linker.
    target_link_libraries(${name} PRIVATE mimalloc)
  endif()
endfunction()

# rill_test(name SOURCES ... LIBS ... [LABELS ...]): one Catch2 executable whose TEST_CASEs
# become separate ctest tests, labelled so `ctest -L stress` etc. can select them.
# RILL_TEST_LABELS, when set, builds only the tests carrying one of those labels: the tsan
# preset builds the tests that start threads ("concurrent", "stress") and skips the rest,
# which ThreadSanitizer has nothing to check in and which cost CI minutes to compile.
# Under UBSan, test files compile without the `alignment` check, which doubles their compile
# time (engine_test.cpp: 35.4 s vs 24.5 s without it vs 16.5 s ASan alone); rill's libraries,
# tools and examples keep it, as does the codec fuzzer, which decodes misaligned input.
#
# In the optimized presets (release: -O3), test files compile at -O1: the engine's templates
# they instantiate are the bulk of CI's compile time, and -O1 takes ~30% less (engine_test.cpp:
# 20.4 s vs 14.5 s). What ships stays -O3 and is tested as such: the libraries, the `rill`
# binary that CI's kill -9 crash test runs, and the installed package the package tests build.
# Benchmarks (never tests) measure speed.
function(rill_test_compile_trim target)
  if(RILL_SANITIZE MATCHES "undefined")
    target_compile_options(${target} PRIVATE -fno-sanitize=alignment)
  endif()
  if(CMAKE_BUILD_TYPE MATCHES "Rel")
    target_compile_options(${target} PRIVATE -O1)
  endif()
  if(RILL_SANITIZE MATCHES "address")
    # Under ASan, test files compile at -O0 (engine_test.cpp: 15.7 s at -O1, 9.5 s at -O0); the
    # libraries, tools and examples they test keep the preset's -O1. ThreadSanitizer keeps -O1:
    # its stress tests would run several times slower.
    target_compile_options(${target} PRIVATE -O0)
  endif()
endfunction()
set(RILL_TEST_LABELS "" CACHE STRING "Build only the tests with one of these labels (empty: all)")
# RILL_TEST_EXCLUDE_LABELS: never build the tests carrying one of these labels. The asan preset
# leaves out "tooling" (the crash test kit's and the bench's own tests: process orchestration and
# measurement, run in the release preset) and "failover" (long leader-kill runs), for CI's time.
set(RILL_TEST_EXCLUDE_LABELS "" CACHE STRING "Never build the tests with one of these labels")
function(rill_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  set(wanted ON)
  if(RILL_TEST_LABELS)
    set(wanted OFF)
    foreach(label ${ARG_LABELS})
      if(label IN_LIST RILL_TEST_LABELS)
        set(wanted ON)
      endif()
    endforeach()
  endif()
  foreach(label ${ARG_LABELS})
    if(label IN_LIST RILL_TEST_EXCLUDE_LABELS)
      set(wanted OFF)
    endif()
  endforeach()
  if(NOT wanted)
    # Still defined, so the callers' target_* calls stand; never built, never registered.
    add_executable(${name} EXCLUDE_FROM_ALL ${ARG_SOURCES})
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} Catch2::Catch2WithMain rill_warnings)
  # GCC 12 reports std::string concatenations of long literals as -Warray-bounds (and
  # -Wstringop-overflow, -Wrestrict) depending on inlining (and on the source path's length: __FILE__-built paths), a known false positive;
  # off in tests only, where such concatenations are everywhere. rill's libraries keep it.
  target_compile_options(${name} PRIVATE $<$<CXX_COMPILER_ID:GNU>:-Wno-array-bounds -Wno-stringop-overflow -Wno-restrict>)
  rill_test_compile_trim(${name})
  if(TARGET rill_test_pch)  # tests/CMakeLists.txt: Catch2, std and FlatBuffers parsed once
    target_precompile_headers(${name} REUSE_FROM rill_test_pch)
  endif()
  # Labels are set by a file ctest includes after the discovered tests: catch_discover_tests'
  # PROPERTIES would split "unit;concurrent" into a label and a stray property name.
  catch_discover_tests(${name} TEST_PREFIX "${name}:" TEST_LIST ${name}_TESTS)
  set(label_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${label_file} "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${ARG_LABELS}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${label_file})
endfunction()
