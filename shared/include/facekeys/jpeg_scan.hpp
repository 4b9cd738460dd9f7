// Whether a JPEG's compressed image data decodes without damage, without a JPEG library.
//
// Decoders draw a JPEG whose entropy-coded data is damaged (bytes overwritten,
// a scan that stops early before an intact end marker) with smeared or grey
// blocks and only a warning: libjpeg's "Corrupt JPEG data: ...", which the
// browser's libjpeg-turbo does not even surface. A prediction on such a photo
// is noise. `facekeys predict` asks libjpeg itself (native/jpeg_check.cpp);
// the page has no libjpeg, so this core validator walks the file the way
// libjpeg-turbo's Huffman decoder does (markers, DHT/DQT/SOF0/1/2/DRI/SOS, every
// scan Huffman-decoded, baseline and progressive, restart markers checked)
// without the IDCT, and gives the same verdicts: a bad Huffman code, a scan
// that needs data past its end (fewer MCUs than the frame needs), extraneous
// bytes before a marker, a wrong restart marker, a bogus progression, or the
// fatal errors of libjpeg's header reader.
//
// Arithmetic-coded and lossless JPEGs (SOF3, SOF9-15) are not checked (browsers
// do not decode them either; the decoder refuses them itself). Neither are
// scans that use a Huffman table the file never defines (motion-JPEG frames:
// libjpeg-turbo substitutes the standard tables).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace facekeys {

// "" when the JPEG in `data` decodes cleanly (or is of a kind not checked,
// see above), else the problem, e.g. "corrupt JPEG data: bad Huffman code
// (scan 3, byte 48211)". The file must start with SOI; what follows EOI is
// ignored. Memory: a few KB, plus for progressive JPEGs 8 bytes per 8x8 block
// of a component refined by AC scans; frames over kMaxImagePixels are refused
// before anything is allocated.
std::string jpeg_scan_problem(const std::uint8_t* data, std::size_t size);

// Throws std::runtime_error("<name>: <problem>") when jpeg_scan_problem finds one.
void check_jpeg_scan(const std::uint8_t* data, std::size_t size, const std::string& name);

}  // namespace facekeys
