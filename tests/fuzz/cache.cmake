# Initial cache for the libFuzzer build (`make fuzz`): cmake -C tests/fuzz/cache.cmake.
# Every library gets coverage instrumentation (fuzzer-no-link) and ASan+UBSan; the fuzz
# binaries link libFuzzer itself (tests/fuzz/CMakeLists.txt). UBSan findings abort, so the
# fuzzer keeps them as crashes. format-nonliteral is only a warning here: clang reports it
# for va_list helpers that gcc accepts.
set(CMAKE_C_COMPILER clang CACHE STRING "")
set(CMAKE_BUILD_TYPE Debug CACHE STRING "")
set(CMAKE_C_FLAGS
    "-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -Wno-error=format-nonliteral"
    CACHE STRING "")
set(VITAE_FUZZ ON CACHE BOOL "")
