# cmake -DBUILD_DIR=... -DCONSUMER_DIR=... -DCXX=... -P consumer_test.cmake
string(RANDOM LENGTH 8 suffix)
set(work "$ENV{TMPDIR}")
if(NOT work)
  set(work /tmp)
endif()
set(work "${work}/rill-package-${suffix}")
set(prefix "${work}/prefix")

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    file(REMOVE_RECURSE "${work}")
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
foreach(f lib/cmake/rill/rillConfig.cmake lib/cmake/rill/rillConfigVersion.cmake lib/pkgconfig/rill.pc
          include/rill/engine/ring_buffer.h include/rill/codecs/envelope_generated.h lib/librill_journal.a bin/rill)
  if(NOT EXISTS "${prefix}/${f}")
    file(REMOVE_RECURSE "${work}")
    message(FATAL_ERROR "the install lacks ${f}")
  endif()
endforeach()

# 1. CMake: find_package(rill) from CMAKE_PREFIX_PATH.
run(${CMAKE_COMMAND} -S "${CONSUMER_DIR}" -B "${work}/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_PREFIX_PATH=${prefix}")
run(${CMAKE_COMMAND} --build "${work}/build")
run("${work}/build/rill_consumer" "${work}/journal-cmake")
message(STATUS "find_package consumer: ${last_output}")

# 2. pkg-config: the same program with the flags rill.pc gives.
set(ENV{PKG_CONFIG_PATH} "${prefix}/lib/pkgconfig")
run(pkg-config --cflags --libs rill)
string(STRIP "${last_output}" flags)
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} "${CONSUMER_DIR}/main.cpp" -o "${work}/consumer-pc" ${flags})
run("${work}/consumer-pc" "${work}/journal-pc")
message(STATUS "pkg-config consumer: ${last_output}")

file(REMOVE_RECURSE "${work}")
