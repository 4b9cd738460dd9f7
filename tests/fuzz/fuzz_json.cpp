// JSON (model cards, configs, metrics): parse, and print what parsed.
#include "facekeys/json.hpp"
#include "fuzz_target.hpp"

FACEKEYS_FUZZ_TARGET((void)facekeys::Json::parse(std::string(text), "fuzz.json").dump())
