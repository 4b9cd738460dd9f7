// Whole-file reads and crash-safe writes.
//
// Every file facekeys writes (packs, checkpoints, model cards, reports) goes
// through write_file_atomic: the bytes land in "<path>.tmp-<pid>" first and are
// renamed over the target only when complete, so an interrupted run never
// leaves a half-written file behind.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace facekeys {

// Throws std::runtime_error("<path>: cannot open: <reason>") etc.
std::vector<std::uint8_t> read_file_bytes(const std::string& path);
std::string read_file_text(const std::string& path);

void write_file_atomic(const std::string& path, const void* data, std::size_t size);
inline void write_file_atomic(const std::string& path, const std::string& text) {
  write_file_atomic(path, text.data(), text.size());
}
inline void write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

// The extension of a file name, lower-cased, with its dot (".jpg" for
// "a/B.JPG"), or "" when there is none: for telling file kinds by name.
std::string extension_lower(const std::string& path);

}  // namespace facekeys
