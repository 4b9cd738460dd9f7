// The safetensors container (https://huggingface.co/docs/safetensors), read and
// written without any tensor library.
//
// facekeys stores checkpoints *and* dataset packs in it: the layout is plain
// (8-byte little-endian header length, a JSON header, raw little-endian bytes),
// it does not depend on the LibTorch version that wrote it (a model trained
// with LibTorch 2.x on a GPU machine loads with Debian's 1.13), and Python's
// `safetensors` package reads our files as they are.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace facekeys {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "F32", "U8", ...
DType dtype_from_name(const std::string& name);  // throws std::invalid_argument

struct TensorRecord {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  // row-major, little-endian

  std::int64_t numel() const;
};

// A record holding `values` as they lie in memory (little-endian: every machine
// facekeys builds for), row-major; T must match dtype's size.
template <class T>
TensorRecord make_tensor_record(std::string name, DType dtype, std::vector<std::int64_t> shape,
                                const std::vector<T>& values) {
  TensorRecord r;
  r.name = std::move(name);
  r.dtype = dtype;
  r.shape = std::move(shape);
  r.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(r.bytes.data(), values.data(), r.bytes.size());
  return r;
}

struct SafeTensorsFile {
  std::vector<TensorRecord> tensors;             // kept in file order
  std::map<std::string, std::string> metadata;   // "__metadata__": string -> string

  const TensorRecord* find(const std::string& name) const;
  // Throws std::runtime_error("<file>: no tensor '<name>'") when absent.
  const TensorRecord& get(const std::string& name, const std::string& file) const;
  // Metadata lookup that names the file and key when absent.
  const std::string& meta(const std::string& key, const std::string& file) const;
  // facekeys' own files carry metadata "format" and "version"; throws
  // "<file>: not a facekeys <what> ..." or "<file>: <what> format version V, this
  // build reads version N" otherwise.
  void require_format(const std::string& file, const std::string& format, int version, const std::string& what) const;
};

// Serialise to bytes / parse from bytes (name is used in error messages).
std::vector<std::uint8_t> encode_safetensors(const SafeTensorsFile& st);
SafeTensorsFile decode_safetensors(const std::vector<std::uint8_t>& bytes, const std::string& name);

// File versions: writes atomically; reads validate every offset, size and dtype.
void write_safetensors(const std::string& path, const SafeTensorsFile& st);
SafeTensorsFile read_safetensors(const std::string& path);

}  // namespace facekeys
