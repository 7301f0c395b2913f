# smpemu_add_experiment(NAME SOURCES file.cc...)
#
# Builds the executable NAME: the whole smpemu command line (list, run, fuzz, replay,
# shrink, compare, merge, diff) plus the workloads in SOURCES, each registered by its
# static WorkloadRegistrar (docs/WRITING_A_WORKLOAD.md). The sources are compiled into
# the executable itself, so no registrar is dropped by the linker.
#
# Call paths in reports name files relative to the calling project's source directory
# and smpemu's headers as "kernel/...", as in the smpemu tree: a run's digest does not
# depend on where the project or smpemu lives.
function(smpemu_add_experiment name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "smpemu_add_experiment(${name}): unexpected arguments ${arg_UNPARSED_ARGUMENTS} (expected SOURCES file...)")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "smpemu_add_experiment(${name}): no SOURCES (expected SOURCES file...)")
  endif()
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE smpemu::main smpemu::smpemu)
  target_compile_options(${name} PRIVATE "-fmacro-prefix-map=${CMAKE_CURRENT_SOURCE_DIR}/=")
  get_target_property(_smpemu_includes smpemu::emu INTERFACE_INCLUDE_DIRECTORIES)
  foreach(dir IN LISTS _smpemu_includes)
    if(NOT dir MATCHES "^\\$<")
      target_compile_options(${name} PRIVATE "-fmacro-prefix-map=${dir}/=")
    endif()
  endforeach()
endfunction()
