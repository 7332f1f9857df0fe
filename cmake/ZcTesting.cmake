# zc_discover_tests(<target> LABELS <label>... [TEST_PREFIX <prefix>] [TIMEOUT <seconds>]
#                   [SERIAL <regex>])
#
# gtest_discover_tests with the suite's rules:
#  - A test labelled anything but "unit" runs alone (RUN_SERIAL): those tests share one Docker
#    engine, one Podman service, Caddy, PostgreSQL's ports, the machine's two cores, and some of
#    them stop the engine or time a latency. The unit tests, which share nothing, run in parallel
#    under `ctest -j`, but for those whose name matches SERIAL: a test that times a latency
#    against a bound (a p99 under 100 ms) runs alone whatever its label. The regex is matched
#    against the full name, TEST_PREFIX included.
#  Limit: GoogleTest's discovery leaves a test whose name holds '[' or ']' out of <target>_TESTS;
#  such a test keeps only the first label and no SERIAL (no suite has one).
#  - Every label is applied. gtest_discover_tests (CMake 3.25) splits a list-valued property
#    into separate words, so `LABELS "docker;fault"` became LABELS docker plus a bogus property
#    and lost the properties after it; the labels are set instead by a script ctest includes
#    after the discovered tests (it walks <target>_TESTS, the list the discovery writes).
#  - A target with a label in ZC_SKIP_TEST_LABELS (a list, empty by default) is left out of
#    `all` and registers no test: a build for a pass that excludes those labels (the sanitizer
#    pass of test.sh, through scripts/sanitize.sh) does not compile it. It is still built on
#    request (`cmake --build <dir> --target <target>`), but then ctest does not know its tests.
include(GoogleTest)

set(ZC_SKIP_TEST_LABELS "" CACHE STRING
    "Test binaries with one of these labels (zc_discover_tests) are not built by default and register no test")

function(zc_discover_tests target)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "TEST_PREFIX;TIMEOUT;SERIAL" "LABELS")
  if(NOT arg_LABELS)
    message(FATAL_ERROR "zc_discover_tests(${target}): LABELS is required")
  endif()
  foreach(label IN LISTS arg_LABELS)
    if(label IN_LIST ZC_SKIP_TEST_LABELS)
      set_target_properties(${target} PROPERTIES EXCLUDE_FROM_ALL TRUE)
      return()
    endif()
  endforeach()
  list(GET arg_LABELS 0 first_label)
  set(properties LABELS ${first_label})
  if(arg_TIMEOUT)
    list(APPEND properties TIMEOUT ${arg_TIMEOUT})
  endif()
  if(NOT arg_LABELS STREQUAL "unit")
    list(APPEND properties RUN_SERIAL TRUE)
  endif()
  set(prefix_args)
  if(arg_TEST_PREFIX)
    set(prefix_args TEST_PREFIX ${arg_TEST_PREFIX})
  endif()
  gtest_discover_tests(${target} ${prefix_args} DISCOVERY_TIMEOUT 60 PROPERTIES ${properties})

  list(LENGTH arg_LABELS label_count)
  set(script_text "")
  if(label_count GREATER 1)
    string(APPEND script_text
      "foreach(test IN LISTS ${target}_TESTS)\n"
      "  set_tests_properties(\"\${test}\" PROPERTIES LABELS \"${arg_LABELS}\")\n"
      "endforeach()\n")
  endif()
  if(arg_SERIAL)
    string(APPEND script_text
      "foreach(test IN LISTS ${target}_TESTS)\n"
      "  if(test MATCHES [=[${arg_SERIAL}]=])\n"
      "    set_tests_properties(\"\${test}\" PROPERTIES RUN_SERIAL TRUE)\n"
      "  endif()\n"
      "endforeach()\n")
  endif()
  if(script_text)
    set(script ${CMAKE_CURRENT_BINARY_DIR}/${target}_properties.cmake)
    file(WRITE ${script} "${script_text}")
    set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
  endif()
endfunction()
