# Helpers every folder uses to declare its targets.
#
#   warden_library(NAME SOURCES ... DEPS ... [PRIVATE_DEPS ...])
#   warden_test(NAME SOURCES ... DEPS ... LABELS ...)
#   warden_fuzz(NAME SOURCES ... DEPS ...)   corpus in fuzz/corpus/NAME

add_library(warden_options INTERFACE)
target_compile_options(warden_options INTERFACE -Wall -Wextra -Werror
  -Wno-missing-field-initializers)
target_compile_definitions(warden_options INTERFACE
  BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW
  # Boost 1.74 does not detect clang 14's coroutines by itself; every
  # target must see Asio configured the same way.
  BOOST_ASIO_HAS_CO_AWAIT BOOST_ASIO_HAS_STD_COROUTINE)

if(WARDEN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
    -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
if(WARDEN_FUZZ)
  # clang 14 cannot emit UBSan's function-type checks in coroutines
  # ("Cannot represent a difference across sections"); the other checks stay.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize=function -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

function(warden_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC
    ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${name} PUBLIC ${A_DEPS}
    PRIVATE warden_options ${A_PRIVATE_DEPS})
endfunction()

function(warden_test name)
  if(NOT WARDEN_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} warden_options
    GTest::gtest GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    WARDEN_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  include(GoogleTest)
  # One label per test: gtest_discover_tests would split a list.
  gtest_discover_tests(${name} PROPERTIES LABELS "${A_LABELS}"
    DISCOVERY_TIMEOUT 60)
endfunction()

# A fuzz target is a libFuzzer binary in the fuzz preset; in every other
# build it is linked with a replay driver and its corpus runs as a test.
function(warden_fuzz name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  set(target fuzz_${name})
  if(WARDEN_FUZZ)
    add_executable(${target} ${A_SOURCES})
    target_link_options(${target} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${target} ${A_SOURCES}
      ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cc)
  endif()
  target_link_libraries(${target} PRIVATE ${A_DEPS} warden_options)
  if(WARDEN_BUILD_TESTS)
    add_test(NAME fuzz_replay_${name}
      COMMAND ${target} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
    set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS "fuzz")
  endif()
endfunction()
