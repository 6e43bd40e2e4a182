# flatc at build time (TOOLCHAIN.md §2): generated files go to the build tree, never the source.
#
# rill_flatbuffers(<out_var> DIR <subdir> SCHEMAS <a.fbs>... [EMBED <a.fbs>...])
#   SCHEMAS: flatc --cpp gives ${PROJECT_BINARY_DIR}/generated/<subdir>/<stem>_generated.h,
#            included as "<subdir>/<stem>_generated.h" (add ${RILL_GENERATED_ROOT} to the includes).
#   EMBED:   flatc --binary --schema gives <stem>.bfbs, and embed_bfbs.cmake turns it into
#            <stem>_bfbs.cpp defining std::span<const std::uint8_t> rill::codecs::embedded::<stem>_bfbs().
# <out_var> receives every generated file; list them as sources of the target that uses them, so
# the build generates them before it compiles anything that includes them.
set(RILL_GENERATED_ROOT ${PROJECT_BINARY_DIR}/generated CACHE INTERNAL "")
set(RILL_EMBED_BFBS_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_bfbs.cmake CACHE INTERNAL "")

function(rill_flatbuffers out_var)
  cmake_parse_arguments(ARG "" "DIR" "SCHEMAS;EMBED" ${ARGN})
  set(gen ${RILL_GENERATED_ROOT}/${ARG_DIR})
  file(MAKE_DIRECTORY ${gen})
  set(outputs)
  foreach(fbs IN LISTS ARG_SCHEMAS)
    get_filename_component(abs ${fbs} ABSOLUTE)
    get_filename_component(stem ${abs} NAME_WE)
    add_custom_command(OUTPUT ${gen}/${stem}_generated.h
      COMMAND flatbuffers::flatc --cpp --scoped-enums --gen-object-api --gen-name-strings --cpp-std c++17
              -o ${gen} ${abs}
      DEPENDS ${abs} flatbuffers::flatc
      COMMENT "flatc --cpp ${stem}.fbs" VERBATIM)
    list(APPEND outputs ${gen}/${stem}_generated.h)
  endforeach()
  foreach(fbs IN LISTS ARG_EMBED)
    get_filename_component(abs ${fbs} ABSOLUTE)
    get_filename_component(stem ${abs} NAME_WE)
    get_filename_component(dir ${abs} DIRECTORY)
    # --bfbs-filenames makes the file name recorded in the .bfbs relative ("//bank.fbs"), so the
    # binary schema, and so the journal's schema fingerprint, do not depend on the checkout path.
    add_custom_command(OUTPUT ${gen}/${stem}.bfbs ${gen}/${stem}_bfbs.cpp
      COMMAND flatbuffers::flatc --binary --schema --bfbs-comments --bfbs-builtins --bfbs-filenames ${dir}
              -o ${gen} ${abs}
      COMMAND ${CMAKE_COMMAND} -DIN=${gen}/${stem}.bfbs -DOUT=${gen}/${stem}_bfbs.cpp -DNAME=${stem}
              -P ${RILL_EMBED_BFBS_SCRIPT}
      DEPENDS ${abs} flatbuffers::flatc ${RILL_EMBED_BFBS_SCRIPT}
      COMMENT "flatc --binary --schema ${stem}.fbs" VERBATIM)
    list(APPEND outputs ${gen}/${stem}_bfbs.cpp)
  endforeach()
  set(${out_var} ${outputs} PARENT_SCOPE)
endfunction()
