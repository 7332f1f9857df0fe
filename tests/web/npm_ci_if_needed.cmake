# cmake -DDIR=<folder with package-lock.json> -DNPM=<npm> -P npm_ci_if_needed.cmake
# Runs `npm ci` in DIR when node_modules is missing or older than package-lock.json; otherwise
# does nothing (and so needs no network).
set(installed ${DIR}/node_modules/.package-lock.json)
if(EXISTS ${installed} AND NOT ${DIR}/package-lock.json IS_NEWER_THAN ${installed})
  return()
endif()
message(STATUS "npm ci in ${DIR}")
execute_process(COMMAND ${NPM} ci --no-audit --no-fund --loglevel=error
                WORKING_DIRECTORY ${DIR} RESULT_VARIABLE rc TIMEOUT 600)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "npm ci in ${DIR} failed (${rc})")
endif()
file(TOUCH ${installed})
