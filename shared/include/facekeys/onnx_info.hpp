// The outline of an ONNX file, read without a protobuf library: IR version,
// operator sets, the graph's inputs and outputs (names, element types, dims)
// and what its weights declare.
//
// Model files come from elsewhere (a folder copied from another machine, a
// model picked in the page), and both runtimes (OpenCV DNN natively, ONNX
// Runtime Web in the page) allocate what a file declares before they notice
// that it is absurd. This reader walks the protobuf wire format by hand, with
// every length checked against the bytes that are there, and allocates only
// for names and dims actually present in the buffer (never what a length or a
// dims field claims), so its caller can refuse a bad model in words
// (model_check.hpp) before a runtime sees it.
//
// Field numbers are those of onnx.proto (ONNX 1.12 and later; they never change).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace facekeys {

// TensorProto.DataType values used by name; others are kept as numbers.
enum OnnxElemType : int {
  kOnnxUndefined = 0,
  kOnnxFloat = 1,
  kOnnxUint8 = 2,
  kOnnxInt8 = 3,
  kOnnxInt32 = 6,
  kOnnxInt64 = 7,
  kOnnxString = 8,
};

// "float", "int64", ... or "type 42" for an unknown number.
std::string onnx_elem_type_name(int elem_type);
// Bytes per element in bits (4 for INT4/UINT4/FLOAT4E2M1), 0 for STRING and unknown types.
int onnx_elem_type_bits(int elem_type);

struct OnnxOpset {
  std::string domain;  // "" (or "ai.onnx") is the standard operator set
  std::int64_t version = 0;
};

struct OnnxValueInfo {
  std::string name;
  int elem_type = kOnnxUndefined;  // 0 when the type is not a tensor or not stated
  bool has_shape = false;          // false: the graph states no shape at all (any rank)
  // One entry per dimension; -1 for a symbolic (dim_param) or unknown dimension.
  std::vector<std::int64_t> dims;
};

struct OnnxInfo {
  std::int64_t ir_version = 0;
  std::vector<OnnxOpset> opsets;
  bool has_graph = false;
  std::vector<OnnxValueInfo> inputs;   // as listed, initializers included (IR < 4 lists them as inputs)
  std::vector<OnnxValueInfo> outputs;
  std::vector<std::string> initializer_names;  // top-level graph only (what may shadow an input)
  std::size_t node_count = 0;                  // top-level graph
  // Every tensor of weights: initializers (dense and sparse) and the tensors in
  // node attributes (Constant), in the graph, its subgraphs and in functions.
  std::size_t tensor_count = 0;
  // What those tensors declare: sum of prod(dims) * element size, saturating
  // at UINT64_MAX. This is what a runtime allocates.
  std::uint64_t declared_bytes = 0;
  // What they hold in the file (raw_data and the typed *_data fields).
  std::uint64_t stored_bytes = 0;
  // Tensors whose data lives in another file (data_location EXTERNAL or
  // external_data entries); at most a few names are kept, the count is exact.
  std::size_t external_count = 0;
  std::vector<std::string> external_names;
  // The first tensor whose stored data does not fit its dims ("" if none), in words.
  std::string inconsistent_tensor;
};

// Reads the outline of an ONNX ModelProto. Throws std::runtime_error("<name>:
// ...") when the bytes are not a well-formed protobuf message of that shape
// (truncated field, length past the end, nesting deeper than any real model).
// Fields this reader does not know are skipped, as protobuf does.
OnnxInfo read_onnx_info(const std::uint8_t* data, std::size_t size, const std::string& name);

}  // namespace facekeys
