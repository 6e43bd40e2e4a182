# rill_add_domain(): a domain's events from its schema. Installed with rill (find_package(rill)
# includes this file) and used in rill's own tree the same way.
#
#   rill_add_domain(<target> SCHEMA <file.fbs> DOMAIN_ID <1..65535> NAMESPACE <c++::ns>
#                   [LOCK <file>]    # default: <schema dir>/<schema stem>.events.lock
#                   [NAME <Camel>])  # default: the target in CamelCase (my_shop -> MyShop)
#
# makes the STATIC library <target>; link it and `#include "<stem>_events.h"`. At build time:
#   flatc --cpp                 -> <stem>_generated.h  (the FlatBuffers tables, with the object API)
#   flatc --binary --schema     -> <stem>.bfbs         (reflection: attributes, fields)
#   rill-domaingen              -> <stem>_events.h, <stem>_events.cpp, checks and extends LOCK
# all in ${CMAKE_CURRENT_BINARY_DIR}/rill_domain/<target>/, the library's PUBLIC include dir.
# The lock file is a source file: the build creates it when missing and appends new events,
# versions and fields to it (commit it); a schema change that old journals cannot survive fails
# the build with the event and field named (rill's codecs/domaingen/README.md).
include_guard(GLOBAL)

function(_rill_domain_camel_case out name)
  string(REGEX REPLACE "[^A-Za-z0-9]+" ";" parts "${name}")
  set(camel "")
  foreach(part IN LISTS parts)
    string(SUBSTRING "${part}" 0 1 head)
    string(SUBSTRING "${part}" 1 -1 tail)
    string(TOUPPER "${head}" head)
    string(APPEND camel "${head}${tail}")
  endforeach()
  set(${out} "${camel}" PARENT_SCOPE)
endfunction()

function(rill_add_domain target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "SCHEMA;DOMAIN_ID;NAMESPACE;LOCK;NAME" "")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "rill_add_domain(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  foreach(required SCHEMA DOMAIN_ID NAMESPACE)
    if(NOT DEFINED ARG_${required} OR "${ARG_${required}}" STREQUAL "")
      message(FATAL_ERROR "rill_add_domain(${target}): ${required} is required: "
                          "rill_add_domain(<target> SCHEMA <file.fbs> DOMAIN_ID <1..65535> NAMESPACE <c++::ns>)")
    endif()
  endforeach()
  math(EXPR domain_id "${ARG_DOMAIN_ID}")  # accepts 0x.. too
  if(domain_id LESS 1 OR domain_id GREATER 65535)
    message(FATAL_ERROR "rill_add_domain(${target}): DOMAIN_ID ${ARG_DOMAIN_ID} is not in 1..65535")
  endif()

  get_filename_component(schema "${ARG_SCHEMA}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${schema}")
    message(FATAL_ERROR "rill_add_domain(${target}): SCHEMA ${schema} does not exist")
  endif()
  get_filename_component(stem "${schema}" NAME_WE)
  get_filename_component(schema_dir "${schema}" DIRECTORY)
  get_filename_component(schema_file "${schema}" NAME)
  if(ARG_LOCK)
    get_filename_component(lock "${ARG_LOCK}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  else()
    set(lock "${schema_dir}/${stem}.events.lock")
  endif()
  if(ARG_NAME)
    set(name "${ARG_NAME}")
  else()
    _rill_domain_camel_case(name "${target}")
  endif()

  # The flatc that matches the FlatBuffers headers the build uses (find_package(FlatBuffers)).
  if(TARGET flatbuffers::flatc)
    set(flatc flatbuffers::flatc)
  else()
    find_program(RILL_FLATC flatc)
    if(NOT RILL_FLATC)
      message(FATAL_ERROR "rill_add_domain(${target}): flatc not found: find_package(FlatBuffers) first "
                          "(Debian: flatbuffers-compiler)")
    endif()
    set(flatc "${RILL_FLATC}")
  endif()
  if(NOT TARGET rill::domaingen)
    message(FATAL_ERROR "rill_add_domain(${target}): rill::domaingen is missing: call find_package(rill) first")
  endif()

  set(out "${CMAKE_CURRENT_BINARY_DIR}/rill_domain/${target}")
  file(MAKE_DIRECTORY "${out}")
  add_custom_command(OUTPUT "${out}/${stem}_generated.h"
    COMMAND ${flatc} --cpp --scoped-enums --gen-object-api --gen-name-strings --cpp-std c++17 -I "${schema_dir}" -o "${out}" "${schema}"
    DEPENDS "${schema}" ${flatc}
    COMMENT "flatc --cpp ${schema_file} (${target})" VERBATIM)
  # --bfbs-filenames records the file name relative to the schema's folder, so the embedded
  # schema, and the journals' schema fingerprint, do not depend on the checkout path.
  add_custom_command(OUTPUT "${out}/${stem}.bfbs"
    COMMAND ${flatc} --binary --schema --bfbs-comments --bfbs-builtins --bfbs-filenames "${schema_dir}"
            -I "${schema_dir}" -o "${out}" "${schema}"
    DEPENDS "${schema}" ${flatc}
    COMMENT "flatc --binary --schema ${schema_file} (${target})" VERBATIM)
  set(lock_dependency "")
  if(EXISTS "${lock}")
    set(lock_dependency "${lock}")  # a hand edit re-runs the check; a missing one is created
  endif()
  add_custom_command(OUTPUT "${out}/${stem}_events.h" "${out}/${stem}_events.cpp"
    COMMAND rill::domaingen --bfbs "${out}/${stem}.bfbs" --lock "${lock}" --out-dir "${out}"
            --domain-id ${domain_id} --namespace "${ARG_NAMESPACE}" --name "${name}" --schema-name "${target}"
            --stem "${stem}" --schema-file "${schema_file}"
    DEPENDS "${out}/${stem}.bfbs" $<TARGET_FILE:rill::domaingen> ${lock_dependency}
    COMMENT "rill-domaingen ${schema_file} (${target})" VERBATIM)

  add_library(${target} STATIC "${out}/${stem}_events.cpp" "${out}/${stem}_events.h" "${out}/${stem}_generated.h")
  target_include_directories(${target} PUBLIC "$<BUILD_INTERFACE:${out}>")
  # rill::codecs brings FlatBuffers and the include root that also holds rill/engine/bytes_ref.h.
  target_link_libraries(${target} PUBLIC rill::codecs)
  target_compile_features(${target} PUBLIC cxx_std_20)
  if(TARGET rill_warnings)
    target_link_libraries(${target} PRIVATE rill_warnings)  # rill's own tree: its -Werror
  endif()
endfunction()
