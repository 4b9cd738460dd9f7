#include "facekeys/onnx_info.hpp"

#include "format_util.hpp"
#include "protobuf_wire.hpp"

#include <stdexcept>

namespace facekeys {

namespace {

using namespace wire_detail;

// Bounds on what the outline keeps, so that a file of N bytes never costs more
// than a small multiple of N: a name or a dim takes at least two bytes on the
// wire, and these caps stop a file made of nothing but empty entries.
constexpr std::size_t kMaxValueInfos = 10000;  // graph inputs / outputs
constexpr std::size_t kMaxRank = 64;
constexpr std::size_t kMaxOpsets = 1000;
constexpr std::size_t kMaxInitializerNames = 100000;
constexpr std::size_t kMaxExternalNames = 8;
// Subgraphs (If / Loop / Scan bodies) nest; no real model goes deeper than a few.
constexpr int kMaxGraphDepth = 16;

// How many values a repeated numeric field adds: packed (kLen) or one at a time.
std::uint64_t repeated_count(Wire& w, int type, int fixed_bytes) {
  if (type == kLen) {
    Wire s = w.sub();
    if (fixed_bytes == 0) return s.packed_varint_count();
    if (s.size() % static_cast<std::size_t>(fixed_bytes) != 0) w.fail("a packed field of fixed-size numbers has a partial one");
    return s.size() / static_cast<std::size_t>(fixed_bytes);
  }
  const int want = fixed_bytes == 0 ? kVarint : fixed_bytes == 4 ? kFixed32 : kFixed64;
  if (type != want) w.fail("a numeric tensor field has the wrong wire type");
  w.skip(type);
  return 1;
}

struct TensorSummary {
  std::string name;
  int elem_type = kOnnxUndefined;
  std::uint64_t elements = 1;  // prod(dims), saturating
  bool negative_dim = false;
  bool external = false;
  bool has_raw = false;
  std::uint64_t raw_bytes = 0;
  std::uint64_t typed_values = 0;  // values in float_data, int32_data, ..., string_data
  std::uint64_t stored_bytes = 0;  // wire bytes of the data fields
};

std::uint64_t declared_bytes(const TensorSummary& t) {
  const int bits = onnx_elem_type_bits(t.elem_type);
  if (bits == 0) return t.stored_bytes;  // strings: what is there is what is allocated
  return bits >= 8 ? sat_mul(t.elements, static_cast<std::uint64_t>(bits / 8)) : t.elements / 2 + t.elements % 2;
}

class Walker {
 public:
  Walker(OnnxInfo& info) : info_(info) {}

  TensorSummary tensor(Wire w) {
    TensorSummary t;
    std::uint32_t f;
    int type;
    while (w.next(f, type)) {
      const std::size_t before = w.size();
      switch (f) {
        case 1:  // dims
          for_each_int(w, type, [&](std::uint64_t d) {
            if (static_cast<std::int64_t>(d) < 0) t.negative_dim = true;
            else t.elements = sat_mul(t.elements, d);
          });
          break;
        case 2: t.elem_type = static_cast<int>(w.varint()); break;
        case 4: t.typed_values += repeated_count(w, type, 4); break;   // float_data
        case 5: t.typed_values += repeated_count(w, type, 0); break;   // int32_data
        case 7: t.typed_values += repeated_count(w, type, 0); break;   // int64_data
        case 10: t.typed_values += repeated_count(w, type, 8); break;  // double_data
        case 11: t.typed_values += repeated_count(w, type, 0); break;  // uint64_data
        case 6:  // string_data
          if (type != kLen) w.fail("a string tensor value is not length-delimited");
          w.sub();
          ++t.typed_values;
          break;
        case 8:
          if (type != kLen) w.fail("a tensor name is not a string");
          t.name = w.string();
          break;
        case 9: {  // raw_data
          if (type != kLen) w.fail("raw_data is not length-delimited");
          t.has_raw = true;
          t.raw_bytes += w.sub().size();
          break;
        }
        case 13: t.external = true; w.skip(type); break;  // external_data
        case 14:                                           // data_location
          if (type != kVarint) w.fail("data_location is not a number");
          if (w.varint() == 1) t.external = true;
          break;
        default: w.skip(type);
      }
      if (f == 4 || f == 5 || f == 6 || f == 7 || f == 9 || f == 10 || f == 11) t.stored_bytes += before - w.size();
    }
    count(t);
    return t;
  }

  void graph(Wire w, int depth, bool top) {
    if (depth > kMaxGraphDepth) w.fail("subgraphs nested deeper than " + std::to_string(kMaxGraphDepth));
    std::uint32_t f;
    while (w.next_len(f)) {
      switch (f) {
        case 1:  // node
          if (top) ++info_.node_count;
          node(w.sub(), depth);
          break;
        case 5: {  // initializer
          const TensorSummary t = tensor(w.sub());
          if (top) {
            if (info_.initializer_names.size() >= kMaxInitializerNames)
              w.fail("more than " + std::to_string(kMaxInitializerNames) + " initializers");
            info_.initializer_names.push_back(t.name);
          }
          break;
        }
        case 15: sparse_tensor(w.sub()); break;  // sparse_initializer
        case 11:
        case 12:
          if (top) {
            auto& list = f == 11 ? info_.inputs : info_.outputs;
            if (list.size() >= kMaxValueInfos) w.fail("more than " + std::to_string(kMaxValueInfos) + " graph inputs or outputs");
            list.push_back(value_info(w.sub()));
          } else {
            w.sub();
          }
          break;
        default: w.sub();
      }
    }
  }

  void function(Wire w) {
    std::uint32_t f;
    int type;
    while (w.next(f, type)) {
      if (f == 7 && type == kLen) node(w.sub(), 1);
      else w.skip(type);
    }
  }

  OnnxOpset opset(Wire w) {
    OnnxOpset o;
    std::uint32_t f;
    int type;
    while (w.next(f, type)) {
      if (f == 1 && type == kLen) o.domain = w.string();
      else if (f == 2 && type == kVarint) o.version = static_cast<std::int64_t>(w.varint());
      else w.skip(type);
    }
    return o;
  }

 private:
  void count(const TensorSummary& t) {
    ++info_.tensor_count;
    info_.declared_bytes = sat_add(info_.declared_bytes, declared_bytes(t));
    info_.stored_bytes = sat_add(info_.stored_bytes, t.stored_bytes);
    if (t.external) {
      ++info_.external_count;
      if (info_.external_names.size() < kMaxExternalNames) info_.external_names.push_back(t.name);
      return;
    }
    if (!info_.inconsistent_tensor.empty()) return;
    const std::string label = "tensor " + format_detail::quote(t.name);
    if (t.negative_dim) {
      info_.inconsistent_tensor = label + " has a negative dimension";
    } else if (t.has_raw) {
      if (t.raw_bytes != declared_bytes(t) && onnx_elem_type_bits(t.elem_type) != 0)
        info_.inconsistent_tensor = label + " declares " + std::to_string(declared_bytes(t)) + " bytes (" +
                                    onnx_elem_type_name(t.elem_type) + ") but holds " + std::to_string(t.raw_bytes);
    } else {
      // Typed fields: one value per element (two for complex numbers); 4-bit
      // types pack two per value.
      std::uint64_t want = t.elements;
      if (t.elem_type == 14 || t.elem_type == 15) want = sat_mul(want, 2);
      if (onnx_elem_type_bits(t.elem_type) == 4) want = t.elements / 2 + t.elements % 2;
      if (t.typed_values != want)
        info_.inconsistent_tensor = label + " declares " + std::to_string(t.elements) + " elements (" +
                                    onnx_elem_type_name(t.elem_type) + ") but holds " +
                                    std::to_string(t.typed_values) + " values";
    }
  }

  void sparse_tensor(Wire w) {
    std::uint64_t dense = 1;
    int values_type = kOnnxUndefined;
    std::uint32_t f;
    int type;
    while (w.next(f, type)) {
      if ((f == 1 || f == 2) && type == kLen) {
        const TensorSummary t = tensor(w.sub());
        if (f == 1) values_type = t.elem_type;
      } else if (f == 3) {
        for_each_int(w, type, [&](std::uint64_t d) { dense = sat_mul(dense, static_cast<std::int64_t>(d) < 0 ? 0 : d); });
      } else {
        w.skip(type);
      }
    }
    // Runtimes make sparse initializers dense: that is what they allocate.
    TensorSummary d;
    d.elem_type = values_type;
    d.elements = dense;
    info_.declared_bytes = sat_add(info_.declared_bytes, declared_bytes(d));
  }

  void node(Wire w, int depth) {
    std::uint32_t f;
    int type;
    while (w.next(f, type)) {
      if (f == 5 && type == kLen) attribute(w.sub(), depth);
      else w.skip(type);
    }
  }

  void attribute(Wire w, int depth) {
    std::uint32_t f;
    while (w.next_len(f)) {
      switch (f) {
        case 5:   // t
        case 10:  // tensors
          tensor(w.sub());
          break;
        case 6:   // g
        case 11:  // graphs
          graph(w.sub(), depth + 1, false);
          break;
        case 22:  // sparse_tensor
        case 23:  // sparse_tensors
          sparse_tensor(w.sub());
          break;
        default: w.sub();
      }
    }
  }

  OnnxValueInfo value_info(Wire w) {
    OnnxValueInfo v;
    std::uint32_t f;
    int type;
    while (w.next(f, type)) {
      if (f == 1 && type == kLen) v.name = w.string();
      else if (f == 2 && type == kLen) type_proto(w.sub(), v);
      else w.skip(type);
    }
    return v;
  }

  void type_proto(Wire w, OnnxValueInfo& v) {
    std::uint32_t f;
    int type;
    while (w.next(f, type)) {
      if (f != 1 || type != kLen) {  // tensor_type; sequences, maps and others are left as type 0
        w.skip(type);
        continue;
      }
      Wire t = w.sub();
      while (t.next(f, type)) {
        if (f == 1 && type == kVarint) v.elem_type = static_cast<int>(t.varint());
        else if (f == 2 && type == kLen) shape(t.sub(), v);
        else t.skip(type);
      }
    }
  }

  void shape(Wire w, OnnxValueInfo& v) {
    v.has_shape = true;
    v.dims.clear();
    std::uint32_t f;
    int type;
    while (w.next(f, type)) {
      if (f != 1 || type != kLen) {
        w.skip(type);
        continue;
      }
      if (v.dims.size() >= kMaxRank) w.fail(format_detail::quote(v.name) + " has more than " + std::to_string(kMaxRank) + " dimensions");
      std::int64_t dim = -1;  // dim_param (symbolic) or nothing stated: unknown
      Wire d = w.sub();
      while (d.next(f, type)) {
        if (f == 1 && type == kVarint) {
          const auto value = static_cast<std::int64_t>(d.varint());
          dim = value < 0 ? -1 : value;
        } else if (f == 2 && type == kLen) {
          d.sub();
          dim = -1;
        } else {
          d.skip(type);
        }
      }
      v.dims.push_back(dim);
    }
  }

  OnnxInfo& info_;
};

}  // namespace

std::string onnx_elem_type_name(int t) {
  static const char* const names[] = {"undefined", "float",   "uint8",   "int8",      "uint16",     "int16",
                                      "int32",     "int64",   "string",  "bool",      "float16",    "double",
                                      "uint32",    "uint64",  "complex64", "complex128", "bfloat16", "float8e4m3fn",
                                      "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4", "float4e2m1"};
  if (t >= 0 && t < static_cast<int>(sizeof(names) / sizeof(names[0]))) return names[t];
  return "type " + std::to_string(t);
}

int onnx_elem_type_bits(int t) {
  switch (t) {
    case 2: case 3: case 9: case 17: case 18: case 19: case 20: return 8;
    case 4: case 5: case 10: case 16: return 16;
    case 1: case 6: case 12: return 32;
    case 7: case 11: case 13: case 14: return 64;
    case 15: return 128;
    case 21: case 22: case 23: return 4;
    default: return 0;  // undefined, string, unknown
  }
}

OnnxInfo read_onnx_info(const std::uint8_t* data, std::size_t size, const std::string& name) {
  OnnxInfo info;
  if (size == 0) throw std::runtime_error(name + ": empty file (0 bytes), not an ONNX model");
  if (!data) throw std::runtime_error(name + ": no data");
  Wire w(data, data + size, name);
  Walker walk(info);
  std::uint32_t f;
  int type;
  while (w.next(f, type)) {
    if (f == 1 && type == kVarint) {
      info.ir_version = static_cast<std::int64_t>(w.varint());
    } else if (f == 8 && type == kLen) {
      if (info.opsets.size() >= kMaxOpsets) w.fail("more than " + std::to_string(kMaxOpsets) + " operator sets");
      info.opsets.push_back(walk.opset(w.sub()));
    } else if (f == 7 && type == kLen) {
      info.has_graph = true;
      walk.graph(w.sub(), 0, true);
    } else if (f == 25 && type == kLen) {
      walk.function(w.sub());
    } else {
      w.skip(type);
    }
  }
  return info;
}

}  // namespace facekeys
