# zc_add_plugin(<kind> <name> SOURCES ... [LIBS ...])
#
# Builds one plugin as a module named zc_<kind>_<name>.so in ${ZC_PLUGIN_OUTPUT_DIR}: hidden
# visibility, no undefined symbols, linked against shared libraries only. Exactly one symbol is
# exported: the entry point defined by ZC_DEFINE_PLUGIN.
function(zc_add_plugin kind name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  set(target zc_${kind}_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE zc_core ${ARG_LIBS})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${ZC_PLUGIN_OUTPUT_DIR})
  target_link_options(${target} PRIVATE
    -Wl,--version-script=${CMAKE_SOURCE_DIR}/cmake/plugin_exports.map)
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${CMAKE_SOURCE_DIR}/cmake/plugin_exports.map)
  if(NOT ZC_SANITIZE)
    target_link_options(${target} PRIVATE -Wl,--no-undefined)
  endif()
  install(TARGETS ${target} LIBRARY DESTINATION lib/zynd-collector/plugins)
endfunction()
