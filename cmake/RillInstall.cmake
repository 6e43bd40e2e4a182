# `cmake --install build/release --prefix P` puts rill where another CMake project finds it
# with find_package(rill), and pkg-config with `pkg-config --cflags --libs rill`:
#   P/include/rill/<folder>/*.h     headers (and the flatc-generated codecs headers)
#   P/lib/librill_<part>.a          one static library per part, targets rill::<part>
#   P/lib/cmake/rill/               rillConfig.cmake, rillConfigVersion.cmake, rillTargets.cmake
#   P/lib/pkgconfig/rill.pc
#   P/bin/rill                      the command-line tool (the reference domains)
#   P/bin/rill-domaingen            the domain generator (rill::domaingen, run by rill_add_domain())
#   P/lib/librill_tools*.a, librill_bench_*.a, P/include/rill/{tools,bench/e2e}/
#                                   rill::tools, for a domain's own tool binary (component tools,
#                                   rillToolsTargets.cmake; needs libpq for the PostgreSQL baseline)
#   P/share/rill/*.sh               the scripts those tools run (throwaway PostgreSQL, latency plot,
#                                   throwaway NATS cluster)
#   P/lib/librill_replication.a, P/include/rill/replication/
#                                   rill::replication (component replication,
#                                   rillReplicationTargets.cmake; needs libnats); the tools need it
#                                   and rill::replication_status (status_file.h, no libnats)
include(CMakePackageConfigHelpers)

set(RILL_INSTALLED_PARTS base observability journal codecs engine engine_asio projections)
set(RILL_INSTALLED_TARGETS rill_warnings)
foreach(part IN LISTS RILL_INSTALLED_PARTS)
  list(APPEND RILL_INSTALLED_TARGETS rill_${part})
endforeach()
set_target_properties(rill_warnings PROPERTIES EXPORT_NAME warnings)

install(TARGETS ${RILL_INSTALLED_TARGETS} EXPORT rillTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET rill)
  install(TARGETS rill RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
# rill-domaingen, as the imported target rill::domaingen that rill_add_domain() runs.
install(TARGETS rill_domaingen EXPORT rillTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers keep their in-tree paths: "rill/journal/journal_writer.h" and so on.
# The library's folders only: the examples are domains like a user's, not part of the package,
# and the fuzz fixtures are tests.
foreach(dir base observability journal codecs engine projections)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill/${dir}
          FILES_MATCHING PATTERN "*.h" PATTERN "fuzz" EXCLUDE)
endforeach()
install(FILES ${RILL_GENERATED_ROOT}/rill/codecs/envelope_generated.h ${RILL_GENERATED_ROOT}/rill/codecs/schema_blob_generated.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill/codecs)

install(EXPORT rillTargets NAMESPACE rill:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)

# Replication (component replication): its own export set, so only projects that ship or follow
# a journal need libnats.
if(TARGET rill_replication)
  install(TARGETS rill_replication rill_replication_status EXPORT rillReplicationTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT rillReplicationTargets NAMESPACE rill:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/replication/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill/replication
          FILES_MATCHING PATTERN "*.h" PATTERN "nats_internal.h" EXCLUDE PATTERN "replicator_impl.h" EXCLUDE)
endif()

# The tools as a library (component tools): their own export set, so a project that does not ask
# for them needs none of their dependencies (libpq).
if(TARGET rill_tools)
  set(RILL_TOOLS_TARGETS rill_tools rill_tools_inspect rill_tools_recover rill_tools_replay rill_tools_demo
                         rill_tools_bench rill_tools_crashtest rill_tools_follow rill_tools_top rill_tools_metrics rill_bench_e2e
                         rill_bench_baselines)
  install(TARGETS ${RILL_TOOLS_TARGETS} EXPORT rillToolsTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT rillToolsTargets NAMESPACE rill:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/tools/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill/tools
          FILES_MATCHING PATTERN "*.h")
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/bench/e2e/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/rill/bench/e2e
          FILES_MATCHING PATTERN "*.h")
  install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/pg-throwaway.sh ${PROJECT_SOURCE_DIR}/scripts/plot-latency.sh
                   ${PROJECT_SOURCE_DIR}/scripts/nats-throwaway.sh
          DESTINATION ${CMAKE_INSTALL_DATADIR}/rill)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rillConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/rillConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rillConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rillConfig.cmake ${PROJECT_BINARY_DIR}/rillConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/RillDomain.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rill)

# pkg-config: link order runs from the top layer down to base.
set(RILL_PC_LIBS "")
foreach(part projections engine codecs journal observability base)
  string(APPEND RILL_PC_LIBS " -lrill_${part}")
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/rill.pc.in ${PROJECT_BINARY_DIR}/rill.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/rill.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
