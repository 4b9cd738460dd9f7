// safetensors containers (checkpoints, packs): header and tensor table.
#include "facekeys/safetensors.hpp"
#include "fuzz_target.hpp"

FACEKEYS_FUZZ_TARGET(facekeys::decode_safetensors(bytes, "fuzz.safetensors"))
