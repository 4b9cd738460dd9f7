// Catch2, 2.x or 3.x, through one header: every test source includes this one,
// never Catch's own headers. Debian 12 ships Catch2 2.13 (one header,
// <catch2/catch.hpp>), Debian 13 Catch2 3.x (<catch2/catch_all.hpp>, main from
// Catch2::Catch2WithMain); tests/CMakeLists.txt finds either.
//
// Include it last: LibTorch pulls in glog's CHECK macro, which silently replaces
// Catch's CHECK when Catch comes first (docs: TOOLCHAIN pitfall).
//
// The tests spell what differs the 3.x way:
//   Approx                                    (3.x: Catch::Approx; 2.x: global)
//   Catch::Matchers::ContainsSubstring(s)     (2.x: Catch::Matchers::Contains(s))
//   Catch::Matchers::StartsWith(s)            (both)
#pragma once

// tests/CMakeLists.txt defines FACEKEYS_CATCH_MAJOR for the version it found
// (a machine can carry both); without it, whichever header is there.
#ifndef FACEKEYS_CATCH_MAJOR
#if __has_include(<catch2/catch_all.hpp>)
#define FACEKEYS_CATCH_MAJOR 3
#else
#define FACEKEYS_CATCH_MAJOR 2
#endif
#endif

#if FACEKEYS_CATCH_MAJOR >= 3
#include <catch2/catch_all.hpp>
using Catch::Approx;
#else
#include <catch2/catch.hpp>
#include <string>
namespace Catch::Matchers {
inline StdString::ContainsMatcher ContainsSubstring(std::string const& str,
                                                    CaseSensitive::Choice cs = CaseSensitive::Yes) {
  return Contains(str, cs);
}
}  // namespace Catch::Matchers
#endif
