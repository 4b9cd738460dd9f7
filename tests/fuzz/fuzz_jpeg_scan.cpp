// The JPEG scan validator the page runs on every JPEG before decoding it
// (jpeg_scan.hpp: markers, tables, every scan Huffman-decoded).
#include "facekeys/jpeg_scan.hpp"
#include "fuzz_target.hpp"

FACEKEYS_FUZZ_TARGET((void)facekeys::jpeg_scan_problem(data, size))
