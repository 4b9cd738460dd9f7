// An exported model's weights, read back from its ONNX graph (onnx_import.cpp).
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "facekeys/safetensors.hpp"

namespace facekeys {

// The checkpoint tensors a facekeys-exported graph was built from, by name,
// float32 (int8 weights dequantised). Throws "<file>: ..." on a graph the
// exporter could not have written.
SafeTensorsFile onnx_weights(const onnx::ModelProto& model, const std::string& file);

// onnx_weights of DIR's model (card + ONNX) written atomically to out_path, a
// safetensors file `facekeys train --init` loads.
void write_export_weights(const std::string& dir, const std::string& out_path);

}  // namespace facekeys
