// ONNX model files from elsewhere: the outline reader (onnx_info.hpp), the
// checks both front ends run on a model before a runtime sees it (model_check.hpp)
// and the page's fold of int8 weights (onnx_fold.hpp), whose output must read
// back as a well-formed model whenever it folded something.
#include <cstdlib>
#include <vector>

#include "facekeys/model_card.hpp"
#include "facekeys/model_check.hpp"
#include "facekeys/onnx_fold.hpp"
#include "facekeys/onnx_info.hpp"
#include "fuzz_target.hpp"

namespace {
// The shipped nose-tip model's card (no SHA-256: the structural checks run).
facekeys::ModelCard nose_card() {
  facekeys::ModelCard c;
  c.name = "nose-largekernel";
  c.arch = "SimpleModelLargeKernel";
  c.schema = "nose_tip";
  c.num_points = 1;
  c.input.width = 80;
  c.input.height = 60;
  return c;
}

void check_model(const std::uint8_t* data, std::size_t size) {
  static const facekeys::ModelCard card = nose_card();
  bool readable = true;
  try {
    (void)facekeys::read_onnx_info(data, size, "fuzz.onnx");
  } catch (const std::exception&) {
    readable = false;
  }
  try {
    facekeys::check_keypoint_model_file(card, data, size, "fuzz.onnx");
  } catch (const std::exception&) {
  }
  std::vector<std::uint8_t> folded;
  try {
    folded = facekeys::fold_int8_weight_casts(data, size, "fuzz.onnx");
  } catch (const std::exception&) {
  }
  if (readable && !folded.empty()) {
    try {
      (void)facekeys::read_onnx_info(folded.data(), folded.size(), "folded.onnx");
    } catch (const std::exception&) {
      std::abort();  // the fold made a readable model unreadable
    }
  }
  facekeys::check_face_detector_file(data, size, "fuzz.onnx");
}
}  // namespace

FACEKEYS_FUZZ_TARGET(check_model(data, size))
