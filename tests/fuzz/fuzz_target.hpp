// One libFuzzer target per parser of untrusted bytes in the core (docs/RELIABILITY.md).
// Each target feeds the bytes to a parser; an exception is the parser's answer
// to bad input, and is expected. What the fuzzer looks for is everything else:
// crashes, hangs, and what AddressSanitizer and UBSan catch (out-of-bounds
// reads, overflows, leaks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>
#include <vector>

#define FACEKEYS_FUZZ_TARGET(body)                                                       \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {    \
    const std::string_view text(reinterpret_cast<const char*>(data), size);              \
    const std::vector<std::uint8_t> bytes(data, data + size);                            \
    (void)text;                                                                          \
    (void)bytes;                                                                         \
    try {                                                                                \
      body;                                                                              \
    } catch (const std::exception&) {                                                    \
    }                                                                                    \
    return 0;                                                                            \
  }
