// Export parity: for every model family, the exported ONNX graph computes what
// LibTorch computes (max abs diff <= 1e-4) in OpenCV DNN, and leaves the case
// in FACEKEYS_PARITY_DIR/<arch>/ (checkpoint, parity.safetensors with "input"
// and "expected", export/model.{onnx,json}) for tests/onnx/ort_parity.mjs,
// which repeats the comparison in ONNX Runtime.
//
// The same holds for the int8 export (--weights int8): its graph must compute
// what LibTorch computes with the weights rounded as the exporter's rule says
// (per-output-channel symmetric int8, written again here with torch ops), so the
// in-graph widening and scaling are exact. That case is export_int8/ with
// "expected_int8"; export_int8_folded/ is the same model as the page hands
// ONNX Runtime (its int8 weights widened by the core, onnx_fold.hpp). And the
// flip test must compute what flip_test_forward (evaluate.hpp, used by
// `eval --flip-test`) computes, "expected_flip": built into the graph
// (--flip-test-in-graph, export_flip/), and as the core runs it on a plain
// graph for a card that asks for it (--flip-test, export_flip_core/: the batch
// made and read by append_keypoint_input and keypoint_batch_output,
// keypoint_pipeline.hpp, as every runner does).
//
// Hidden ("[.parity]"): ctest runs it once as the fixture export_parity_opencv_dnn
// (tests/CMakeLists.txt) rather than through test discovery, so the Node test
// can require its output. Run by hand: native_tests "[parity]".
//
// Each export's weights, read back by `facekeys-export --weights-of` (what
// `facekeys train --init DIR` loads), must rebuild a model that computes the
// same output.
//
// The exporter is the separate facekeys-export executable: libonnx never
// enters this LibTorch process.
//
// LibTorch first: its glog CHECK macro must not replace Catch's.
#include "train/checkpoint.hpp"
#include "eval/evaluate.hpp"
#include "models/models.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "facekeys/file_io.hpp"
#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/onnx_fold.hpp"
#include "facekeys/safetensors.hpp"

#ifdef FACEKEYS_WITH_OPENCV_DNN
#include <opencv2/dnn.hpp>
#endif

#include "support/catch.hpp"

#ifdef FACEKEYS_EXPORT_EXE

using namespace facekeys;
namespace fs = std::filesystem;

namespace {

TensorRecord record(const std::string& name, const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat32).contiguous();
  TensorRecord r;
  r.name = name;
  r.shape.assign(c.sizes().begin(), c.sizes().end());
  r.bytes.resize(c.numel() * sizeof(float));
  std::memcpy(r.bytes.data(), c.data_ptr<float>(), r.bytes.size());
  return r;
}

// Fresh weights plus non-trivial BatchNorm statistics and affine terms, so the
// export of inference-mode BatchNorm is really exercised.
void randomise_statistics(KeypointNet& model) {
  torch::NoGradGuard no_grad;
  for (auto& b : model.named_buffers()) {
    const std::string& n = b.key();
    if (n.size() >= 12 && n.compare(n.size() - 12, 12, "running_mean") == 0) b.value().uniform_(-0.2, 0.2);
    if (n.size() >= 11 && n.compare(n.size() - 11, 11, "running_var") == 0) b.value().uniform_(0.5, 1.5);
  }
  for (auto& p : model.named_parameters())
    if (p.value().dim() == 1) p.value().add_(torch::empty_like(p.value()).uniform_(-0.1, 0.1));
}

// The model with every conv / linear weight (rank >= 2) replaced by what the
// int8 export stores for it: one scale per output channel (axis 0, except
// ConvTranspose's [in, out, k, k] weights: axis 1).
torch::Tensor forward_with_int8_weights(KeypointNet& model, const torch::Tensor& input) {
  std::set<const void*> transposed;  // ConvTranspose2d weights: output channels are axis 1
  for (const auto& m : model.modules(/*include_self=*/false))
    if (const auto* ct = m->as<torch::nn::ConvTranspose2dImpl>()) transposed.insert(ct->weight.unsafeGetTensorImpl());
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved;
  for (auto& p : model.named_parameters()) {
    torch::Tensor w = p.value();
    if (w.dim() < 2) continue;
    saved.emplace_back(w, w.clone());
    const bool out_on_axis1 = transposed.count(w.unsafeGetTensorImpl()) > 0;
    const torch::Tensor by_channel = out_on_axis1 ? w.transpose(0, 1) : w;
    const torch::Tensor flat = by_channel.reshape({by_channel.size(0), -1});
    torch::Tensor scale = flat.abs().amax(1, /*keepdim=*/true) / 127.0;
    scale = torch::where(scale > 0, scale, torch::ones_like(scale));
    const torch::Tensor rounded = ((flat / scale).round().clamp(-127, 127) * scale).reshape(by_channel.sizes());
    w.copy_(out_on_axis1 ? rounded.transpose(0, 1) : rounded);
  }
  torch::Tensor out = model.forward(input).contiguous().clone();
  for (auto& s : saved) s.first.copy_(s.second);
  return out;
}

double max_abs_diff_opencv(const std::string& onnx_path, const ModelCard& card, const torch::Tensor& input,
                           const torch::Tensor& expected) {
#ifdef FACEKEYS_WITH_OPENCV_DNN
  // A card that asks for the flip test gets the core's: each image followed by its mirror image.
  const bool flip = card_wants_flip_test(card);
  const std::size_t n = static_cast<std::size_t>(input.size(0)), per_in = static_cast<std::size_t>(input[0].numel());
  std::vector<float> batch;
  for (std::size_t i = 0; i < n; ++i)
    append_keypoint_input(
        batch, std::vector<float>(input.data_ptr<float>() + i * per_in, input.data_ptr<float>() + (i + 1) * per_in),
        card, flip);
  std::vector<int> dims(input.sizes().begin(), input.sizes().end());
  dims[0] = static_cast<int>(flip ? 2 * n : n);
  cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx_path);
  cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F, batch.data());
  net.setInput(blob, card.onnx.input_name);
  cv::Mat got = net.forward(card.onnx.output_name);
  const std::size_t per_out = static_cast<std::size_t>(expected[0].numel());
  REQUIRE(got.total() == per_out * static_cast<std::size_t>(dims[0]));
  std::vector<float> outputs(got.ptr<float>(), got.ptr<float>() + got.total()), out;
  for (std::size_t i = 0; i < n; ++i) {
    const float* one = keypoint_batch_output(outputs, i, card, flip);
    out.insert(out.end(), one, one + per_out);
  }
  const torch::Tensor got_t = torch::from_blob(out.data(), expected.sizes(), torch::kFloat32);
  return (got_t - expected).abs().max().item<double>();
#else
  (void)onnx_path, (void)card, (void)input, (void)expected;
  return -1.0;
#endif
}

}  // namespace

TEST_CASE("export parity: every model family, LibTorch vs ONNX in OpenCV DNN", "[.parity]") {
  const fs::path root = FACEKEYS_PARITY_DIR;
  fs::remove_all(root);
  fs::create_directories(root);
  torch::NoGradGuard no_grad;
  int index = 0;
  for (const auto& spec : model_zoo()) {
    INFO("arch " << spec.arch);
    torch::manual_seed(1000 + index++);
    auto model = make_model(spec);
    randomise_statistics(*model);
    model->eval();
    const torch::Tensor input = torch::rand({2, spec.channels, spec.input_h, spec.input_w}) * 2 - 1;
    torch::Tensor expected = model->forward(input).contiguous();
    // Deep random nets (ResNet34) can reach outputs near 100; trained ones give
    // normalised coordinates near [0, 1]. Scale the last layer so outputs are
    // O(1) and the absolute tolerance means the same for every family.
    const double peak = expected.abs().max().item<double>();
    if (peak > 2.0) {
      for (auto& p : model->named_parameters())
        if (p.key().rfind("fc2.", 0) == 0 || p.key().rfind("head.", 0) == 0) p.value().div_(peak);
      expected = model->forward(input).contiguous();
    }

    const fs::path dir = root / spec.arch;
    fs::create_directories(dir);
    const std::string ck = (dir / "model.safetensors").string();
    save_checkpoint(ck, spec, *model, nullptr, 1, {{"device", "cpu"}, {"torch_version", TORCH_VERSION}});
    SafeTensorsFile parity;
    parity.metadata["arch"] = spec.arch;
    parity.tensors.push_back(record("input", input));
    parity.tensors.push_back(record("expected", expected));

    // "export" is the plain export; "export_int8" its compressed twin; "export_flip" and
    // "export_flip_core" the flip test in the graph and in the core.
    struct Variant {
      std::string dir, expected, weights;  // expected: its LibTorch output's name in parity.safetensors
      std::string flip_flag;               // "", "--flip-test-in-graph" or "--flip-test"
    };
    for (const Variant& v : {Variant{"export", "expected", "float32", ""},
                             Variant{"export_int8", "expected_int8", "int8", ""},
                             Variant{"export_flip", "expected_flip", "float32", "--flip-test-in-graph"},
                             Variant{"export_flip_core", "expected_flip", "float32", "--flip-test"}}) {
      INFO("variant " << v.dir);
      const bool flip_test = !v.flip_flag.empty();
      torch::Tensor want_out = expected;
      if (v.weights == "int8") want_out = forward_with_int8_weights(*model, input);
      if (flip_test) want_out = flip_test_forward(*model, input, spec).contiguous();
      const bool recorded = std::any_of(parity.tensors.begin(), parity.tensors.end(),
                                        [&](const TensorRecord& r) { return r.name == v.expected; });
      if (!recorded) parity.tensors.push_back(record(v.expected, want_out));
      const std::string out = (dir / v.dir).string();
      const std::string cmd = std::string("\"") + FACEKEYS_EXPORT_EXE + "\" \"" + ck + "\" -o \"" + out +
                              "\" --weights " + v.weights + " " + v.flip_flag + " > \"" + out + ".log\" 2>&1";
      REQUIRE(std::system(cmd.c_str()) == 0);

      const ModelCard card = read_model_card(out + "/model.json");
      CHECK(card.arch == spec.arch);
      CHECK(card.onnx.weights == v.weights);
      CHECK(card.onnx.flip_test == (v.flip_flag == "--flip-test-in-graph"));
      CHECK(card.output.flip_test == (v.flip_flag == "--flip-test"));
      std::vector<std::int64_t> want = card_output_shape(card);
      want[0] = expected.size(0);
      CHECK(std::vector<std::int64_t>(expected.sizes().begin(), expected.sizes().end()) == want);
      if (flip_test) CHECK((want_out - expected).abs().max().item<double>() > 1e-3);  // the average changes it

      const double diff = max_abs_diff_opencv(out + "/" + card.onnx.file, card, input, want_out);
      if (diff < 0) {
        WARN("built without OpenCV DNN: " << spec.arch << " exported, not run (ONNX Runtime parity still checks it)");
      } else {
        INFO("OpenCV DNN max abs diff " << diff << " (outputs up to " << want_out.abs().max().item<double>() << ")");
        CHECK(diff <= 1e-4);
      }
      // The page hands ONNX Runtime an int8 export with its weights widened by the core
      // (fold_int8_weight_casts, onnx_fold.hpp): export_int8_folded/ must compute the same.
      if (v.weights == "int8") {
        const std::string folded_dir = (dir / "export_int8_folded").string();
        fs::create_directories(folded_dir);
        const std::vector<std::uint8_t> bytes = read_file_bytes(out + "/" + card.onnx.file);
        const std::vector<std::uint8_t> folded = fold_int8_weight_casts(bytes.data(), bytes.size(), card.onnx.file);
        REQUIRE(folded.size() > bytes.size());  // float weights are 4 times the int8 ones
        write_file_atomic(folded_dir + "/" + card.onnx.file, folded);
        fs::copy_file(out + "/model.json", folded_dir + "/model.json", fs::copy_options::overwrite_existing);
        const double folded_diff = max_abs_diff_opencv(folded_dir + "/" + card.onnx.file, card, input, want_out);
        INFO("folded: OpenCV DNN max abs diff " << folded_diff);
        if (folded_diff >= 0) CHECK(folded_diff <= 1e-4);
      }

      // The way back (`train --init DIR`): the weights read out of the ONNX
      // load into a fresh model by name and shape and compute the same output.
      const std::string weights = out + ".weights.safetensors";
      const std::string back = std::string("\"") + FACEKEYS_EXPORT_EXE + "\" --weights-of \"" + out + "\" -o \"" +
                               weights + "\" >> \"" + out + ".log\" 2>&1";
      REQUIRE(std::system(back.c_str()) == 0);
      torch::manual_seed(7);
      auto fresh = make_model(spec);
      std::vector<std::string> notes;
      const int loaded = load_matching_weights(*fresh, weights, &notes);
      for (const auto& n : notes) UNSCOPED_INFO(n);
      CHECK(notes.empty());
      int tensors = static_cast<int>(fresh->named_parameters().size());
      for (const auto& b : fresh->named_buffers()) tensors += b.key().find("num_batches_tracked") == std::string::npos;
      CHECK(loaded == tensors);
      fresh->eval();
      const torch::Tensor again = flip_test ? flip_test_forward(*fresh, input, spec) : fresh->forward(input);
      CHECK((again - want_out).abs().max().item<double>() <= 1e-5);
    }
    write_safetensors((dir / "parity.safetensors").string(), parity);
  }
}

#endif  // FACEKEYS_EXPORT_EXE
