// The one Catch2 main shared by every test executable, with Catch2 2.x (Debian 12,
// and the Emscripten build). With Catch2 3.x the main comes from
// Catch2::Catch2WithMain instead and this file is not built (CMakeLists.txt).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
