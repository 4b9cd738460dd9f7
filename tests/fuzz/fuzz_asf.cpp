// IMM .asf annotations (any point count).
#include "facekeys/asf.hpp"
#include "fuzz_target.hpp"

FACEKEYS_FUZZ_TARGET(facekeys::parse_asf(text, "fuzz.asf", 0))
