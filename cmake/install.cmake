# Install rules, the exported CMake package (smpemuConfig.cmake, namespace smpemu::) and
# the Debian package (cpack -G DEB). Included by the top-level CMakeLists.txt after the
# targets are defined.
include(CMakePackageConfigHelpers)

# Everything an experiment links besides main().
add_library(smpemu_sdk INTERFACE)
target_link_libraries(smpemu_sdk INTERFACE smpemu_cli smpemu_workload)

set(SMPEMU_EXPORTED emu arch mm text workload runner cli main sdk)
foreach(t ${SMPEMU_EXPORTED})
  set(name ${t})
  if(t STREQUAL "sdk")
    set(name smpemu)
  endif()
  set_target_properties(smpemu_${t} PROPERTIES EXPORT_NAME ${name})
  add_library(smpemu::${name} ALIAS smpemu_${t})
  list(APPEND SMPEMU_EXPORTED_TARGETS smpemu_${t})
endforeach()

install(TARGETS ${SMPEMU_EXPORTED_TARGETS} EXPORT smpemuTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS smpemu RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY emu kernel mm arch traces cli workloads
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/smpemu FILES_MATCHING PATTERN "*.h")

set(SMPEMU_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/smpemu)
install(EXPORT smpemuTargets NAMESPACE smpemu:: DESTINATION ${SMPEMU_CMAKE_DIR})
configure_package_config_file(cmake/smpemuConfig.cmake.in ${CMAKE_BINARY_DIR}/smpemuConfig.cmake
                              INSTALL_DESTINATION ${SMPEMU_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/smpemuConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/smpemuConfig.cmake ${CMAKE_BINARY_DIR}/smpemuConfigVersion.cmake
              cmake/smpemuExperiment.cmake
        DESTINATION ${SMPEMU_CMAKE_DIR})
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples PATTERN "build*" EXCLUDE)

# ---- Debian package: cpack -G DEB in the build directory -------------------
set(CPACK_PACKAGE_NAME smpemu)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "smpemu maintainers <smpemu@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "deterministic discrete-event SMP emulator for Linux mm locking experiments")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The headers and the CMake package need the -dev packages the libraries were built with.
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "cmake (>= 3.25), g++ (>= 4:12), libboost-context-dev (>= 1.74), libspdlog-dev (>= 1:1.10), libfmt-dev (>= 9), libcli11-dev, nlohmann-json3-dev (>= 3.11)")
include(CPack)
