// iBUG .pts annotations (any point count).
#include "facekeys/pts.hpp"
#include "fuzz_target.hpp"

FACEKEYS_FUZZ_TARGET(facekeys::parse_pts(text, "fuzz.pts", 0))
