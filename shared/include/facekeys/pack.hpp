// Dataset packs: a whole dataset decoded once into one file the trainer can
// load straight into (GPU) memory, with no image decoder on that machine.
//
// On disk a pack is a safetensors file (see safetensors.hpp):
//   pixels         U8  [N, H, W, C]  the working-resolution images
//   points         F32 [N, K, 2]     keypoints, normalised coordinates of the pack image (CONVENTIONS.md)
//   person         I32 [N]           subject id (-1 when unknown), for person-disjoint splits
//   split          U8  [N]           0 train, 1 val, 2 test
//   image_to_pack  F64 [N, 2, 3]     affine from original-image pixels to pack pixels, so every
//                                    metric can be reported in original-image pixels
//   original_size  I32 [N, 2]        original width, height
// and metadata: format = "facekeys-pack", version, schema, source, names (JSON array),
// and the framing the images were cut with (crop_source, crop_margin, crop_square,
// crop_center_shift_y: model_zoo.hpp), which `facekeys train` copies into its
// checkpoints and `facekeys export` into the model card. Packs written before
// framing was recorded have none: the trainer then records nothing and the
// exporter falls back to the model zoo's default for the architecture (face-box,
// margin 1.3, square for the 300-W models; the whole image for the IMM models),
// what every pack of that time was made with unless `pack ibug --margin` changed it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "facekeys/model_zoo.hpp"

namespace facekeys {

enum class Split : std::uint8_t { Train = 0, Val = 1, Test = 2 };
const char* split_name(Split s);
Split split_from_name(const std::string& name);  // "train" | "val" | "test"; throws otherwise

struct Pack {
  static constexpr int kFormatVersion = 1;

  std::string schema;  // a landmark schema name: "imm58", "ibug68", ...
  std::string source;  // free text: where the images came from and how they were framed
  std::optional<Framing> framing;  // how the images were cut from the photos; none in old packs
  int width = 0, height = 0, channels = 1, num_points = 0;

  std::vector<std::string> names;          // per sample: image path relative to the dataset root
  std::vector<std::uint8_t> pixels;        // N*H*W*C
  std::vector<float> points;               // N*K*2
  std::vector<std::int32_t> person;        // N
  std::vector<std::uint8_t> split;         // N
  std::vector<double> image_to_pack;       // N*6, row-major 2x3
  std::vector<std::int32_t> original_size; // N*2

  std::size_t size() const { return names.size(); }
  std::size_t image_bytes() const { return static_cast<std::size_t>(width) * height * channels; }
  std::size_t count(Split s) const;

  // Appends one sample; checks every size against the pack's shape.
  void add(const std::string& name, const std::uint8_t* image, const std::vector<float>& normalized_points,
           int person_id, Split s, const std::array<double, 6>& to_pack, int original_w, int original_h);

  // Throws std::runtime_error("<name>: ...") if any array disagrees with N, K, W, H, C.
  void validate(const std::string& name) const;
};

void write_pack(const std::string& path, const Pack& pack);
// Rejects other formats and versions with a message naming the file.
Pack read_pack(const std::string& path);
// The same from a pack file's bytes; `path` names it in messages.
Pack decode_pack(const std::vector<std::uint8_t>& bytes, const std::string& path);

}  // namespace facekeys
