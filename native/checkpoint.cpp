#include "checkpoint.hpp"

#include <cstring>
#include <stdexcept>

#include "facekeys/safetensors.hpp"

namespace facekeys {
namespace {

constexpr const char* kFormat = "facekeys-checkpoint";
constexpr int kVersion = 1;

TensorRecord to_record(const std::string& name, const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  TensorRecord r;
  r.name = name;
  r.dtype = DType::F32;
  r.shape.assign(c.sizes().begin(), c.sizes().end());
  r.bytes.resize(c.numel() * sizeof(float));
  if (c.numel() > 0) std::memcpy(r.bytes.data(), c.data_ptr<float>(), r.bytes.size());
  return r;
}

torch::Tensor from_record(const TensorRecord& r, const std::string& path) {
  if (r.dtype != DType::F32) throw std::runtime_error(path + ": tensor '" + r.name + "' is not F32");
  auto t = torch::empty(r.shape, torch::kFloat32);
  if (t.numel() > 0) std::memcpy(t.data_ptr<float>(), r.bytes.data(), r.bytes.size());
  return t;
}

int to_int(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
  auto it = m.find(key);
  if (it == m.end()) throw std::runtime_error(path + ": checkpoint metadata has no '" + key + "'");
  try {
    std::size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used == it->second.size()) return static_cast<int>(v);
  } catch (const std::exception&) {
  }
  throw std::runtime_error(path + ": checkpoint metadata '" + key + "' is not an integer");
}

}  // namespace

void save_checkpoint(const std::string& path, const ModelSpec& spec, KeypointNet& model, const Adam* optimizer,
                     int epoch, const std::map<std::string, std::string>& extra) {
  SafeTensorsFile st;
  st.metadata = extra;
  st.metadata["format"] = kFormat;
  st.metadata["version"] = std::to_string(kVersion);
  st.metadata["arch"] = spec.arch;
  st.metadata["schema"] = spec.schema;
  st.metadata["input_w"] = std::to_string(spec.input_w);
  st.metadata["input_h"] = std::to_string(spec.input_h);
  st.metadata["channels"] = std::to_string(spec.channels);
  st.metadata["num_points"] = std::to_string(spec.num_points);
  st.metadata["output"] = spec.output;
  st.metadata["epoch"] = std::to_string(epoch);
  for (const auto& p : model.named_parameters()) st.tensors.push_back(to_record(p.key(), p.value()));
  for (const auto& b : model.named_buffers()) st.tensors.push_back(to_record(b.key(), b.value()));
  if (optimizer) {
    st.metadata["optimizer_step"] = std::to_string(optimizer->steps());
    for (const auto& s : optimizer->state()) st.tensors.push_back(to_record(s.first, s.second));
  }
  write_safetensors(path, st);
}

Checkpoint load_checkpoint(const std::string& path) {
  SafeTensorsFile st = read_safetensors(path);
  auto fmt = st.metadata.find("format");
  if (fmt == st.metadata.end() || fmt->second != kFormat)
    throw std::runtime_error(path + ": not a facekeys checkpoint (metadata 'format' is not '" + kFormat + "')");
  if (to_int(st.metadata, "version", path) != kVersion)
    throw std::runtime_error(path + ": checkpoint version " + st.metadata["version"] + ", this build reads " +
                             std::to_string(kVersion));
  Checkpoint ck;
  ck.metadata = st.metadata;
  const std::string arch = st.meta("arch", path);
  try {
    ck.spec = model_spec(arch);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  ck.spec.schema = st.meta("schema", path);
  ck.spec.input_w = to_int(st.metadata, "input_w", path);
  ck.spec.input_h = to_int(st.metadata, "input_h", path);
  ck.spec.channels = to_int(st.metadata, "channels", path);
  ck.spec.num_points = to_int(st.metadata, "num_points", path);
  ck.spec.output = st.meta("output", path);
  ck.epoch = to_int(st.metadata, "epoch", path);
  ck.model = make_model(ck.spec);

  torch::NoGradGuard no_grad;
  auto load_into = [&](const std::string& name, torch::Tensor dst) {
    const TensorRecord* r = st.find(name);
    if (!r) throw std::runtime_error(path + ": checkpoint of " + arch + " lacks tensor '" + name + "'");
    auto src = from_record(*r, path);
    if (src.sizes() != dst.sizes())
      throw std::runtime_error(path + ": tensor '" + name + "' has shape " + c10::str(src.sizes()) + ", model " +
                               arch + " expects " + c10::str(dst.sizes()));
    dst.copy_(src);
  };
  for (auto& p : ck.model->named_parameters()) load_into(p.key(), p.value());
  for (auto& b : ck.model->named_buffers()) load_into(b.key(), b.value());

  if (st.metadata.count("optimizer_step")) {
    ck.optimizer_step = to_int(st.metadata, "optimizer_step", path);
    for (const auto& r : st.tensors)
      if (r.name.rfind("adam.", 0) == 0) ck.optimizer_state[r.name] = from_record(r, path);
  }
  return ck;
}

}  // namespace facekeys
