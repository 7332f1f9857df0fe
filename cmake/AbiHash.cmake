# Computes ZC_PLUGIN_HEADERS_HASH: the SHA-256 of every header a plugin sees: core/include/zc/*.h
# and core/include/zc/plugin/*.h (paths and contents, in sorted order; zc/host/ is host-only). A plugin built against other headers carries another
# hash and the loader refuses it. CMake re-runs this when any header changes.
file(GLOB ZC_PUBLIC_HEADERS CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/core/include/zc/*.h
     ${CMAKE_SOURCE_DIR}/core/include/zc/plugin/*.h)
list(SORT ZC_PUBLIC_HEADERS)
set_property(DIRECTORY ${CMAKE_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ZC_PUBLIC_HEADERS})
set(_zc_hash_input "")
foreach(_hdr IN LISTS ZC_PUBLIC_HEADERS)
  file(RELATIVE_PATH _rel ${CMAKE_SOURCE_DIR} ${_hdr})
  file(SHA256 ${_hdr} _h)
  string(APPEND _zc_hash_input "${_rel}:${_h}\n")
endforeach()
string(SHA256 ZC_PLUGIN_HEADERS_HASH "${_zc_hash_input}")
set(ZC_GENERATED_INCLUDE_DIR ${CMAKE_BINARY_DIR}/generated/include)
configure_file(${CMAKE_SOURCE_DIR}/cmake/abi_hash.h.in
               ${ZC_GENERATED_INCLUDE_DIR}/zc/abi_hash.h @ONLY)
message(STATUS "zynd-collector plugin headers hash: ${ZC_PLUGIN_HEADERS_HASH}")
