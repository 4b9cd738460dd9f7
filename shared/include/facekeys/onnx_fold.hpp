// Weights a runtime computes when it loads a model, computed here instead.
//
// `facekeys export --weights int8` stores each conv / linear weight as int8
// values that a Cast node widens to float (docs/EXPORT.md): a file a quarter
// the size, and a runtime folds the Cast into a float weight when it loads it.
// ONNX Runtime Web does that fold with WebAssembly code that runs there for the
// first time, compiled as it goes: in a first visit's page that was 0.3-0.4 s
// of the default model's 0.5 s session, on the way to the page being ready
// (docs/WEB.md, "Start-up and the first photo"). The page hands ONNX Runtime
// the model this returns instead, made in a few milliseconds, after the model
// check (model_check.hpp) has passed on the file itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace facekeys {

// `data`: an ONNX ModelProto. Returns the same model with every Cast of an INT8
// initializer (raw_data) to FLOAT replaced by a FLOAT initializer named as the
// Cast's output, holding the widened values: the graph computes exactly what it
// did. The int8 initializers are left out once nothing else reads them; every
// other byte of the file is kept as it is. Returns an empty vector when there is
// nothing to fold. Throws std::runtime_error("<name>: ...") on bytes that are not
// a well-formed protobuf message (as read_onnx_info does).
std::vector<std::uint8_t> fold_int8_weight_casts(const std::uint8_t* data, std::size_t size, const std::string& name);

}  // namespace facekeys
