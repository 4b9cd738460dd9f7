// Dataset packs: the container, then every array's shape and values.
#include "facekeys/pack.hpp"
#include "fuzz_target.hpp"

FACEKEYS_FUZZ_TARGET(facekeys::decode_pack(bytes, "fuzz.pack"))
