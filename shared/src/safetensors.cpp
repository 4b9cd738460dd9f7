#include "facekeys/safetensors.hpp"

#include <cstring>
#include <stdexcept>

#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"

namespace facekeys {
namespace {

struct DTypeInfo {
  DType type;
  const char* name;
  std::size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1},
};

// A header larger than this is not a file we wrote (or anyone sane did).
constexpr std::uint64_t kMaxHeaderBytes = 100u << 20;

// Distinct type so decode can tell its own errors from those of the JSON layer.
struct InvalidFile : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void bad(const std::string& name, const std::string& what) {
  throw InvalidFile(name + ": not a valid safetensors file: " + what);
}

}  // namespace

std::size_t dtype_size(DType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d.size;
  throw std::invalid_argument("unknown dtype");
}

const char* dtype_name(DType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d.name;
  throw std::invalid_argument("unknown dtype");
}

DType dtype_from_name(const std::string& name) {
  for (const auto& d : kDTypes)
    if (name == d.name) return d.type;
  throw std::invalid_argument("unsupported safetensors dtype '" + name + "'");
}

std::int64_t TensorRecord::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

const TensorRecord* SafeTensorsFile::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

const TensorRecord& SafeTensorsFile::get(const std::string& name, const std::string& file) const {
  const TensorRecord* t = find(name);
  if (!t) throw std::runtime_error(file + ": no tensor '" + name + "'");
  return *t;
}

const std::string& SafeTensorsFile::meta(const std::string& key, const std::string& file) const {
  auto it = metadata.find(key);
  if (it == metadata.end()) throw std::runtime_error(file + ": metadata has no '" + key + "'");
  return it->second;
}

void SafeTensorsFile::require_format(const std::string& file, const std::string& format, int version,
                                     const std::string& what) const {
  auto it = metadata.find("format");
  if (it == metadata.end() || it->second != format)
    throw std::runtime_error(file + ": not a facekeys " + what + " (metadata 'format' is not '" + format + "')");
  const std::string found = meta("version", file);
  if (found != std::to_string(version))
    throw std::runtime_error(file + ": " + what + " format version " + found + ", this build reads version " +
                             std::to_string(version));
}

std::vector<std::uint8_t> encode_safetensors(const SafeTensorsFile& st) {
  Json header = Json::object();
  if (!st.metadata.empty()) {
    Json meta = Json::object();
    for (const auto& kv : st.metadata) meta[kv.first] = Json(kv.second);
    header["__metadata__"] = meta;
  }
  std::uint64_t offset = 0;
  for (const auto& t : st.tensors) {
    if (t.name.empty() || t.name == "__metadata__") throw std::invalid_argument("bad tensor name '" + t.name + "'");
    const std::uint64_t expected = static_cast<std::uint64_t>(t.numel()) * dtype_size(t.dtype);
    if (expected != t.bytes.size())
      throw std::invalid_argument("tensor '" + t.name + "': " + std::to_string(t.bytes.size()) +
                                  " bytes for a shape needing " + std::to_string(expected));
    Json shape = Json::array();
    for (auto d : t.shape) shape.push_back(Json(static_cast<double>(d)));
    Json entry = Json::object();
    entry["dtype"] = Json(dtype_name(t.dtype));
    entry["shape"] = shape;
    Json offsets = Json::array();
    offsets.push_back(Json(static_cast<double>(offset)));
    offsets.push_back(Json(static_cast<double>(offset + t.bytes.size())));
    entry["data_offsets"] = offsets;
    header[t.name] = entry;
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  // Pad with spaces so the data starts 8-byte aligned (allowed by the format).
  while ((8 + text.size()) % 8 != 0) text += ' ';
  std::vector<std::uint8_t> out(8 + text.size() + offset);
  std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::size_t pos = 8 + text.size();
  for (const auto& t : st.tensors) {
    if (!t.bytes.empty()) std::memcpy(out.data() + pos, t.bytes.data(), t.bytes.size());
    pos += t.bytes.size();
  }
  return out;
}

SafeTensorsFile decode_safetensors(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  if (bytes.size() < 8) bad(name, "file is " + std::to_string(bytes.size()) + " bytes, shorter than the 8-byte header length");
  std::uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
  if (header_len > kMaxHeaderBytes || header_len > bytes.size() - 8)
    bad(name, "header length " + std::to_string(header_len) + " exceeds the file size");
  const std::string text(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<std::size_t>(header_len));
  Json header;
  try {
    header = Json::parse(text, name);
  } catch (const std::exception& e) {
    bad(name, e.what());
  }
  if (!header.is_object()) bad(name, "header is not a JSON object");
  const std::uint64_t data_size = bytes.size() - 8 - header_len;
  const std::uint8_t* data = bytes.data() + 8 + header_len;

  SafeTensorsFile st;
  try {
    for (const auto& kv : header.as_object()) {
      if (kv.first == "__metadata__") {
        for (const auto& m : kv.second.as_object()) st.metadata[m.first] = m.second.as_string();
        continue;
      }
      TensorRecord t;
      t.name = kv.first;
      t.dtype = dtype_from_name(kv.second.at("dtype").as_string());
      std::uint64_t numel = 1;
      for (const auto& d : kv.second.at("shape").as_array()) {
        std::int64_t v = d.as_int();
        if (v < 0 || v > (std::int64_t(1) << 40)) bad(name, "tensor '" + t.name + "' has a bad dimension");
        t.shape.push_back(v);
        // Checked before multiplying: dimensions up to 2^40 would wrap the product.
        if (v != 0 && numel > data_size / static_cast<std::uint64_t>(v))
          bad(name, "tensor '" + t.name + "' is larger than the file");
        numel *= static_cast<std::uint64_t>(v);
      }
      const auto& offs = kv.second.at("data_offsets").as_array();
      if (offs.size() != 2) bad(name, "tensor '" + t.name + "': data_offsets must have 2 entries");
      std::int64_t begin = offs[0].as_int(), end = offs[1].as_int();
      if (begin < 0 || end < begin || static_cast<std::uint64_t>(end) > data_size)
        bad(name, "tensor '" + t.name + "': data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                      "] outside the " + std::to_string(data_size) + "-byte data section (truncated file?)");
      if (static_cast<std::uint64_t>(end - begin) != numel * dtype_size(t.dtype))
        bad(name, "tensor '" + t.name + "': byte size does not match dtype and shape");
      t.bytes.assign(data + begin, data + end);
      st.tensors.push_back(std::move(t));
    }
  } catch (const InvalidFile&) {
    throw;
  } catch (const std::exception& e) {
    bad(name, e.what());
  }
  return st;
}

void write_safetensors(const std::string& path, const SafeTensorsFile& st) {
  write_file_atomic(path, encode_safetensors(st));
}

SafeTensorsFile read_safetensors(const std::string& path) {
  return decode_safetensors(read_file_bytes(path), path);
}

}  // namespace facekeys
