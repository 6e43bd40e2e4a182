# Sanitizers apply to the whole build (project code, tests, and header-only dependencies),
# at both compile and link time. mimalloc is turned off under any sanitizer: the sanitizer's
# own malloc must win, and mimalloc's override would be silently bypassed (TOOLCHAIN.md §4).
if(RILL_SANITIZE)
  # -g1: line tables are all a sanitizer report needs, and full debug info of the engine's
  # templates would make these builds ~a third slower (CI's 30-minute budget on 2 cores).
  add_compile_options(-fsanitize=${RILL_SANITIZE} -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${RILL_SANITIZE})
  if(RILL_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
  if(RILL_SANITIZE MATCHES "address" AND RILL_SANITIZE MATCHES "undefined")
    # Three UBSan checks that AddressSanitizer already covers cost a third of this build's
    # compile time (measured on tests/writer/engine_test.cpp: 20.4 s -> 14.1 s): `null` (ASan
    # reports the dereference as SEGV with its stack), `object-size` (ASan's redzones check
    # every access, not only those whose size the compiler knows) and `vptr` (rill's hot types
    # are not polymorphic). The rest of UBSan (overflow, shifts, bounds, enums, bools, alignment
    # of project code, ...) stays on.
    add_compile_options(-fno-sanitize=vptr,null,object-size)
  endif()
  if(RILL_SANITIZE MATCHES "thread")
    # Boost.Asio's std_fenced_block uses atomic_thread_fence, which GCC 12 flags under TSan.
    add_compile_options(-Wno-tsan)
    add_compile_definitions(RILL_TSAN=1)
  endif()
  if(RILL_USE_MIMALLOC)
    message(STATUS "rill: RILL_SANITIZE=${RILL_SANITIZE}, so RILL_USE_MIMALLOC is turned off")
    set(RILL_USE_MIMALLOC OFF CACHE BOOL "" FORCE)
  endif()
endif()
