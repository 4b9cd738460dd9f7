#include "facekeys/onnx_fold.hpp"

#include "facekeys/onnx_info.hpp"
#include "protobuf_wire.hpp"

#include <cstring>
#include <map>
#include <set>

namespace facekeys {

namespace {

using namespace wire_detail;

// One field of a message: [begin, end) spans its tag and its value.
struct Span {
  const std::uint8_t* begin = nullptr;
  const std::uint8_t* end = nullptr;
};

struct Int8Weight {
  Span field;  // the GraphProto.initializer field
  std::vector<std::uint64_t> dims;
  const std::uint8_t* values = nullptr;  // raw_data: one int8 a byte
  std::size_t count = 0;
};

struct Node {
  Span field;  // the GraphProto.node field
  std::vector<std::string> inputs, outputs;
  std::string op_type, domain;
  std::int64_t cast_to = -1;  // the "to" attribute
  bool subgraph = false;      // an attribute holds a graph (If / Loop / Scan bodies read outer names)
};

void put_varint(std::vector<std::uint8_t>& out, std::uint64_t v) {
  do {
    const std::uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v ? b | 0x80 : b);
  } while (v);
}
void put_tag(std::vector<std::uint8_t>& out, std::uint32_t field, int type) {
  put_varint(out, static_cast<std::uint64_t>(field) << 3 | static_cast<unsigned>(type));
}
void put_len(std::vector<std::uint8_t>& out, std::uint32_t field, const std::uint8_t* p, std::size_t n) {
  put_tag(out, field, kLen);
  put_varint(out, n);
  out.insert(out.end(), p, p + n);
}
void put(std::vector<std::uint8_t>& out, Span s) { out.insert(out.end(), s.begin, s.end); }

// A TensorProto that may be an int8 weight stored as raw_data; false for anything else
// (other types, typed data fields, data in another file, a size that does not match dims).
bool read_int8_weight(Wire w, std::string& name, Int8Weight& t) {
  int elem_type = kOnnxUndefined;
  bool raw = false, other_data = false;
  std::uint64_t elements = 1;
  std::uint32_t f;
  int type;
  while (w.next(f, type)) {
    if (f == 1) {
      for_each_int(w, type, [&](std::uint64_t d) {
        t.dims.push_back(d);
        elements = sat_mul(elements, d);
      });
    } else if (f == 2 && type == kVarint) {
      elem_type = static_cast<int>(w.varint());
    } else if (f == 8 && type == kLen) {
      name = w.string();
    } else if (f == 9 && type == kLen) {
      const Wire r = w.sub();
      raw = true;
      t.values = r.pos();
      t.count = r.size();
    } else {
      if (f != 12) other_data = true;  // typed data, segment, external data (doc_string is harmless)
      w.skip(type);
    }
  }
  return elem_type == kOnnxInt8 && raw && !other_data && elements == t.count;
}

Node read_node(Wire w, Span field) {
  Node n;
  n.field = field;
  std::uint32_t f;
  while (w.next_len(f)) {
    switch (f) {
      case 1: n.inputs.push_back(w.string()); break;
      case 2: n.outputs.push_back(w.string()); break;
      case 4: n.op_type = w.string(); break;
      case 7: n.domain = w.string(); break;
      case 5: {  // AttributeProto
        Wire a = w.sub();
        std::string attr;
        std::int64_t i = -1;
        std::uint32_t af;
        int at;
        while (a.next(af, at)) {
          if (af == 1 && at == kLen) {
            attr = a.string();
          } else if (af == 3 && at == kVarint) {
            i = static_cast<std::int64_t>(a.varint());
          } else {
            if (af == 6 || af == 11) n.subgraph = true;  // g, graphs
            a.skip(at);
          }
        }
        if (attr == "to") n.cast_to = i;
        break;
      }
      default: w.sub();
    }
  }
  return n;
}

// A ValueInfoProto's name (a graph output's).
std::string value_info_name(Wire w) {
  std::uint32_t f;
  while (w.next_len(f)) {
    if (f == 1) return w.string();
    w.sub();
  }
  return "";
}

}  // namespace

std::vector<std::uint8_t> fold_int8_weight_casts(const std::uint8_t* data, std::size_t size, const std::string& name) {
  // ModelProto.graph (field 7): exactly one (protobuf would merge several; no exporter writes that).
  Wire model(data, data + size, name);
  Span graph_field, graph_body;
  int graphs = 0;
  std::uint32_t f;
  int type;
  while (true) {
    const std::uint8_t* at = model.pos();
    if (!model.next(f, type)) break;
    if (f == 7 && type == kLen) {
      const Wire body = model.sub();
      graph_body = {body.pos(), body.end()};
      graph_field = {at, model.pos()};
      ++graphs;
    } else {
      model.skip(type);
    }
  }
  if (graphs != 1) return {};

  std::map<std::string, Int8Weight> int8_weights;
  std::set<std::string> initializer_names, graph_outputs;
  std::vector<Node> nodes;
  for (Wire g(graph_body.begin, graph_body.end, name); true;) {
    const std::uint8_t* at = g.pos();
    if (!g.next(f, type)) break;
    if (type != kLen) {
      g.skip(type);
      continue;
    }
    Wire body = g.sub();
    const Span field{at, g.pos()};
    if (f == 1) {
      nodes.push_back(read_node(body, field));
    } else if (f == 5) {
      std::string tensor_name;
      Int8Weight t;
      t.field = field;
      if (read_int8_weight(body, tensor_name, t)) int8_weights.emplace(tensor_name, t);
      initializer_names.insert(tensor_name);
    } else if (f == 12) {
      graph_outputs.insert(value_info_name(body));
    }
  }

  // The Casts to fold: int8 weight -> float, standard domain, a fresh output name.
  std::set<const std::uint8_t*> folded;  // node fields left out
  struct Made {
    std::string output, weight;  // the float weight's name, the int8 one's
    const Int8Weight* w;
  };
  std::vector<Made> made;
  bool subgraphs = false;
  for (const Node& n : nodes) {
    subgraphs = subgraphs || n.subgraph;
    if (n.op_type != "Cast" || !(n.domain.empty() || n.domain == "ai.onnx") || n.cast_to != kOnnxFloat ||
        n.inputs.size() != 1 || n.outputs.size() != 1 || n.outputs[0].empty() || initializer_names.count(n.outputs[0]))
      continue;
    const auto w = int8_weights.find(n.inputs[0]);
    if (w == int8_weights.end()) continue;
    folded.insert(n.field.begin);
    made.push_back({n.outputs[0], w->first, &w->second});
  }
  if (made.empty()) return {};

  // An int8 weight goes once nothing reads it (a subgraph may read any outer name: then all stay).
  std::set<std::string> still_read(graph_outputs);
  for (const Node& n : nodes)
    if (!folded.count(n.field.begin)) still_read.insert(n.inputs.begin(), n.inputs.end());
  std::set<const std::uint8_t*> dropped;  // initializer fields left out
  for (const Made& m : made)
    if (!subgraphs && !still_read.count(m.weight)) dropped.insert(m.w->field.begin);

  std::vector<std::uint8_t> g;
  g.reserve(static_cast<std::size_t>(graph_field.end - graph_field.begin) * 4);
  for (Wire r(graph_body.begin, graph_body.end, name); true;) {
    const std::uint8_t* at = r.pos();
    if (!r.next(f, type)) break;
    r.skip(type);
    if (!folded.count(at) && !dropped.count(at)) put(g, {at, r.pos()});
  }
  std::vector<std::uint8_t> tensor;
  for (const Made& m : made) {
    const Int8Weight* w = m.w;
    tensor.clear();
    for (std::uint64_t d : w->dims) {
      put_tag(tensor, 1, kVarint);
      put_varint(tensor, d);
    }
    put_tag(tensor, 2, kVarint);
    put_varint(tensor, kOnnxFloat);
    put_len(tensor, 8, reinterpret_cast<const std::uint8_t*>(m.output.data()), m.output.size());
    put_tag(tensor, 9, kLen);
    put_varint(tensor, w->count * 4);
    for (std::size_t i = 0; i < w->count; ++i) {  // little-endian, as raw_data is on every platform
      const float v = static_cast<float>(static_cast<std::int8_t>(w->values[i]));
      std::uint32_t bits;
      std::memcpy(&bits, &v, sizeof bits);
      for (int k = 0; k < 4; ++k) tensor.push_back(static_cast<std::uint8_t>(bits >> (8 * k)));
    }
    put_len(g, 5, tensor.data(), tensor.size());
  }

  std::vector<std::uint8_t> out;
  out.reserve(size - static_cast<std::size_t>(graph_field.end - graph_field.begin) + g.size() + 16);
  put(out, {data, graph_field.begin});
  put_len(out, 7, g.data(), g.size());
  put(out, {graph_field.end, data + size});
  return out;
}

}  // namespace facekeys
