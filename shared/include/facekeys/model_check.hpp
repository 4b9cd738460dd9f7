// The one check of a model file before a runtime sees it, shared by both front
// ends (`facekeys predict` before OpenCV DNN, the page before ONNX Runtime Web).
//
// A model folder can come from anywhere. Runtimes take a bad file badly: a
// tensor that declares gigabytes is allocated before anything else, a graph
// with a dynamic height runs on whatever it is given, an operator set newer
// than the runtime fails deep inside it with a message about a node. This
// check reads the file's outline (onnx_info.hpp) and refuses, in words naming
// the file, whatever the card and the runtimes cannot take.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "facekeys/model_card.hpp"

namespace facekeys {

// The newest standard operator set both runtimes run: 17, that of ONNX 1.12
// (Debian 12's libonnx, which `facekeys export` writes with). OpenCV 4.6
// (Debian 12, `facekeys predict`) does not check opsets itself, but its
// importer knows operators only as they were defined by mid-2022, i.e. up to
// opset 17; onnxruntime-web 1.30 (package-lock.json, the page) runs newer
// ones (opset 21 and beyond), so OpenCV is what binds. One limit for both, so
// a model the page takes runs natively too.
constexpr std::int64_t kMaxOnnxOpset = 17;
// The oldest: what the model card accepts too (validate_model_card).
constexpr std::int64_t kMinOnnxOpset = 7;
// IR versions: 3 brought operator set imports; onnxruntime-web 1.30 reads IR
// up to 10 and refuses newer files (OpenCV does not check).
constexpr std::int64_t kMinOnnxIrVersion = 3;
constexpr std::int64_t kMaxOnnxIrVersion = 10;
// Weights a keypoint model may declare (and the file size it may have): the
// largest shipped architecture, ResNet34 in float32, is about 85 MB; 256 MiB
// leaves room for bigger ones and refuses a file that would have a runtime
// allocate gigabytes.
constexpr std::uint64_t kMaxKeypointModelBytes = 256ull << 20;
// The UltraFace detector (version-RFB-320) is 1.3 MB.
constexpr std::uint64_t kMaxDetectorModelBytes = 64ull << 20;

// Throws std::runtime_error("<path>: <problem>") when `data` (the bytes of the
// ONNX file at `path`) is not a model the card describes and both runtimes can
// run: a SHA-256 other than the card's (onnx_bytes_mismatch), not an ONNX
// model, an IR version or standard opset outside the limits above, another
// operator domain, an input or output name other than the card's (or a second
// input the card does not name), element types other than float, an input or
// output shape other than card_input_shape / card_output_shape (only the batch
// dimension may be dynamic), weights in external files, weights that declare
// more bytes than the file holds or than kMaxKeypointModelBytes, or a weight
// tensor whose data does not fit its dims.
void check_keypoint_model_file(const ModelCard& card, const std::uint8_t* data, std::size_t size,
                               const std::string& path);

// The same for the face detector (face_detect.hpp): input [N, 3, 240, 320]
// float, outputs "scores" [N, P, 2] and "boxes" [N, P, 4] (N and P may be dynamic),
// within kMaxDetectorModelBytes.
void check_face_detector_file(const std::uint8_t* data, std::size_t size, const std::string& path);

}  // namespace facekeys
