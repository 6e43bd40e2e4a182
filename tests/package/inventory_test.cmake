# cmake -DBUILD_DIR=... -DINVENTORY_DIR=... -DDOC=... -DCXX=... -P inventory_test.cmake
# The tutorial's domain (docs/your-first-domain.md) as a user builds it: install this build
# into a temporary prefix, build a copy of examples/inventory against it as an outside project
# (a copy: the build may write the lock file beside the schema, never in the source tree), run
# inventory-demo on one directory (the scenario, then recovery from the journal and the read
# model's checkpoint, then without the checkpoint), check what each prints,
# then read the journal with the installed `rill inspect`. First, the tutorial (DOC) must show
# the example's files as they are.
cmake_minimum_required(VERSION 3.25)  # policies of script mode: if(IN_LIST), while(TRUE)
string(RANDOM LENGTH 8 suffix)
set(work "$ENV{TMPDIR}")
if(NOT work)
  set(work /tmp)
endif()
set(work "${work}/rill-inventory-${suffix}")
set(prefix "${work}/prefix")
set(data "${work}/data")

function(fail)
  file(REMOVE_RECURSE "${work}")
  message(FATAL_ERROR ${ARGN})
endfunction()

# Runs a command; fails unless it exits 0. Its stdout is in `last_output`.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    fail("failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

# Fails unless `output` has a line matching the regular expression `pattern`.
function(expect output pattern)
  string(REGEX MATCH "(^|\n)${pattern}" found "${output}")
  if(NOT found)
    fail("expected a line matching\n  ${pattern}\nin\n${output}")
  endif()
endfunction()

# The "stock (...)" lines: what both runs must agree on.
function(stock_lines output out_var)
  string(REGEX MATCHALL "stock \\([a-z ]+\\) sku [^\n]*" lines "${output}")
  set(${out_var} "${lines}" PARENT_SCOPE)
endfunction()

# 0. DOC shows each file whole, in blocks marked `<!-- file: NAME -->`: put together (blank
# lines aside), they must be the file, so the page's code is the code CI compiles and runs.
file(READ "${DOC}" doc)
set(page "${doc}")
set(shown_files "")
while(TRUE)
  string(FIND "${doc}" "<!-- file: " at)
  if(at EQUAL -1)
    break()
  endif()
  string(SUBSTRING "${doc}" ${at} -1 doc)
  string(REGEX MATCH "^<!-- file: ([^ ]+) -->\n```[a-z]*\n" head "${doc}")
  if(NOT head)
    fail("${DOC}: a `<!-- file: NAME -->` marker not followed by a code block")
  endif()
  set(name "${CMAKE_MATCH_1}")
  string(LENGTH "${head}" skip)
  string(SUBSTRING "${doc}" ${skip} -1 doc)
  string(FIND "${doc}" "\n```" end)
  string(SUBSTRING "${doc}" 0 ${end} block)
  string(APPEND shown_${name} "${block}\n")
  string(SUBSTRING "${doc}" ${end} -1 doc)
  if(NOT name IN_LIST shown_files)
    list(APPEND shown_files "${name}")
  endif()
endwhile()
foreach(name CMakeLists.txt inventory.fbs inventory_domain.h stock_levels.h main.cpp inventory_workload.h tools_main.cpp)
  if(NOT name IN_LIST shown_files)
    fail("${DOC} does not show ${name}")
  endif()
  file(READ "${INVENTORY_DIR}/${name}" actual)
  set(shown "${shown_${name}}")
  foreach(text actual shown)
    string(REGEX REPLACE "\n[ \t]*(\n[ \t]*)*\n" "\n" ${text} "${${text}}")
    string(STRIP "${${text}}" ${text})
  endforeach()
  if(NOT actual STREQUAL shown)
    fail("${DOC} shows another ${name} than ${INVENTORY_DIR} has: update the page (or the file)")
  endif()
endforeach()

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
file(COPY "${INVENTORY_DIR}/" DESTINATION "${work}/src")
run(${CMAKE_COMMAND} -S "${work}/src" -B "${work}/build" -G Ninja -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_PREFIX_PATH=${prefix}")
run(${CMAKE_COMMAND} --build "${work}/build")
# The committed lock already holds every event: a build that had to add one means the lock in
# the source tree is stale (commit what the build wrote).
file(READ "${INVENTORY_DIR}/inventory.events.lock" lock_before)
file(READ "${work}/src/inventory.events.lock" lock_after)
if(NOT lock_before STREQUAL lock_after)
  fail("the build changed inventory.events.lock: examples/inventory's committed lock is stale")
endif()

# 1. The scenario on an empty directory.
run("${work}/build/inventory-demo" "${data}")
set(first "${last_output}")
message(STATUS "first run:\n${first}")
foreach(pattern
        "new journal in "
        "command 3 PlaceOrder order 17 sku 100 x4 +accepted, 2 events, last at position 4\n"
        "command 5 PlaceOrder order 19 sku 100 x2 +rejected [(]rule violated[)]: sku 100 has 1 available, order wants 2\n"
        "command 7 CancelOrder order 18 +accepted, 2 events, last at position 10\n"
        "command 8 ShipOrder order 17 +accepted, 2 events, last at position 12\n"
        "command 9 CancelOrder order 17 +rejected [(]rule violated[)]: order 17 is not open: never placed, or already shipped or cancelled\n"
        "command 8 ShipOrder order 17 +accepted, 2 events, last at position 12 [(]a retry: the original outcome[)]\n"
        "stock [(]engine[)] sku 100: on hand 6, reserved 0, available 6\n"
        "stock [(]engine[)] sku 200: on hand 5, reserved 3, available 2\n"
        "stock [(]read model[)] sku 100: on hand 6, reserved 0, available 6\n"
        "open orders in memory: 1 "
        "read model matches the engine\n")
  expect("${first}" "${pattern}")
endforeach()

# 2. The same directory again: recovery (journal replay, read-model checkpoint), same state.
run("${work}/build/inventory-demo" "${data}")
set(second "${last_output}")
message(STATUS "second run:\n${second}")
foreach(pattern
        "recovered 12 events from .*, up to position 12\n"
        "read model inventory.stock_levels: checkpoint at position 12\n"
        "command 8 ShipOrder order 17 +accepted, 2 events, last at position 12 [(]a retry: the original outcome[)]\n"
        "open orders in memory: 1 "
        "read model matches the engine\n")
  expect("${second}" "${pattern}")
endforeach()
stock_lines("${first}" stock_first)
stock_lines("${second}" stock_second)
list(LENGTH stock_first n)
if(NOT n EQUAL 4 OR NOT stock_first STREQUAL stock_second)
  fail("the recovered stock levels differ from the first run's:\n${stock_first}\nvs\n${stock_second}")
endif()

# 3. Without its checkpoint the read model rebuilds from the journal, to the same levels.
file(REMOVE_RECURSE "${data}/checkpoints")
run("${work}/build/inventory-demo" "${data}")
set(third "${last_output}")
expect("${third}" "read model inventory.stock_levels: checkpoint at position 0\n")
expect("${third}" "read model matches the engine\n")
stock_lines("${third}" stock_third)
if(NOT stock_first STREQUAL stock_third)
  fail("the rebuilt stock levels differ from the first run's:\n${stock_first}\nvs\n${stock_third}")
endif()

# The page shows captured runs: each outcome and stock line it shows is one these runs printed.
string(REGEX MATCHALL "\n(command [0-9]+ [A-Z][a-zA-Z]+ |stock [(]|open orders in memory|read model (matches|inventory))[^\n]*"
       page_lines "${page}")
list(LENGTH page_lines n)
if(n LESS 20)
  fail("${DOC} shows only ${n} lines of inventory-demo's output")
endif()
foreach(line IN LISTS page_lines)
  string(FIND "\n${first}\n${second}\n${third}" "${line}\n" at)
  if(at EQUAL -1)
    fail("${DOC} shows a line no run printed:${line}")
  endif()
endforeach()

# 4. The installed tool reads the journal without the application's code (the embedded schema).
run("${prefix}/bin/rill" inspect verify "${data}")
run("${prefix}/bin/rill" inspect dump "${data}")
set(dump "${last_output}")
expect("${dump}" "3 +[^ ]+ +Order 17 v1 +inventory.OrderPlaced +cmd 3 ")
expect("${dump}" "11 +[^ ]+ +Order 17 v2 +inventory.OrderShipped +cmd 8 ")
expect("${dump}" "12 +[^ ]+ +Sku 100 v5 +inventory.StockShipped +cmd 8 ")

# 5. inventory-rill, the domain's own tools (section 10): the kill -9 crash test under each
# durability policy (its seed is printed: a failure replays with it), then the demo, whose
# journal `replay --verify` rebuilds with the writer's digests all matching.
foreach(durability none batch interval)
  run("${work}/build/inventory-rill" crashtest --kills 10 --durability ${durability})
  message(STATUS "inventory-rill crashtest --durability ${durability}:\n${last_output}")
  expect("${last_output}" "result: ok: 10 kills, ")
endforeach()
run("${work}/build/inventory-rill" demo --seconds 1 --dir "${work}/demo")
expect("${last_output}" "checks: every command acknowledged once: yes; invariants hold; state mirror digest [0-9a-f]+, engine's [0-9a-f]+: consistent")
run("${work}/build/inventory-rill" replay "${work}/demo/journal" --verify --stream Sku:1)
set(replayed "${last_output}")
message(STATUS "inventory-rill replay --verify:\n${replayed}")
expect("${replayed}" "aggregates   [0-9]+: Sku 10000, Order [0-9]+\n")
expect("${replayed}" "stream       Sku 1: version [0-9]+, on hand [0-9]+, reserved [0-9]+\n")
expect("${replayed}" "digest       0x[0-9a-f]+; [1-9][0-9]* digest records checked, all match\n")

file(REMOVE_RECURSE "${work}")
