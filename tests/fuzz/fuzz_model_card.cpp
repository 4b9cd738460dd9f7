// Model cards (model.json): JSON, then every field checked.
#include "facekeys/json.hpp"
#include "facekeys/model_card.hpp"
#include "fuzz_target.hpp"

FACEKEYS_FUZZ_TARGET(facekeys::model_card_from_json(facekeys::Json::parse(std::string(text), "fuzz.json"), "fuzz.json"))
