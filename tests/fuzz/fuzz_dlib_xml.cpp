// dlib imglab XML datasets.
#include "facekeys/dlib_xml.hpp"
#include "fuzz_target.hpp"

FACEKEYS_FUZZ_TARGET(facekeys::parse_dlib_xml(text, "fuzz.xml", 0))
