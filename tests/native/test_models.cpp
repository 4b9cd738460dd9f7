// LibTorch first: its glog CHECK macro must not replace Catch's.
#include "train/checkpoint.hpp"
#include "eval/evaluate.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/safetensors.hpp"
#include "facekeys/schema.hpp"
#include "models/models.hpp"

#include <cstdio>
#include <filesystem>

#include "support/catch.hpp"

using namespace facekeys;

TEST_CASE("every model maps its input to 2K coordinates (or K heatmaps)", "[models]") {
  torch::NoGradGuard no_grad;
  for (const auto& spec : model_zoo()) {
    INFO(spec.arch);
    auto model = make_model(spec);
    auto out = model->forward(torch::zeros({2, spec.channels, spec.input_h, spec.input_w}));
    if (spec.output == OutputKind::Heatmaps)  // one map per point (test_ibug.cpp checks the map size)
      CHECK(out.sizes().slice(0, 2) == torch::IntArrayRef({2, spec.num_points}));
    else
      CHECK(out.sizes() == torch::IntArrayRef({2, 2 * spec.num_points}));
  }
}

// The flip test is flip-equivariant by construction: its output on the mirrored
// image is its output on the image, mirrored and relabelled. The mirror here is
// written independently: the core's relabel_for_flip for points, a loop over
// maps for heatmaps; an un-flip with the wrong axis, sign or labels fails it.
TEST_CASE("the flip test's output on the mirrored image is its output mirrored and relabelled", "[models][flip]") {
  torch::NoGradGuard no_grad;
  torch::manual_seed(7);
  for (const char* arch : {"SimpleModel", "Baseline", "ResNet18", "HeatmapUNetSmall"}) {
    INFO(arch);
    ModelSpec spec = model_spec(arch);
    if (spec.schema == "ibug68") spec.input_w = spec.input_h = 32;  // same layers, cheaper
    auto model = make_model(spec);
    model->eval();
    const torch::Tensor x = torch::rand({2, 1, spec.input_h, spec.input_w}) * 2 - 1;
    const torch::Tensor plain = flip_test_forward(*model, x, spec);
    const torch::Tensor mirrored = flip_test_forward(*model, x.flip({3}), spec);
    const LandmarkSchema& schema = schema_by_name(spec.schema);
    torch::Tensor want = torch::empty_like(plain);
    for (int64_t b = 0; b < x.size(0); ++b) {
      if (spec.output == OutputKind::Heatmaps) {
        for (int i = 0; i < spec.num_points; ++i)
          want[b][schema.flip_permutation[static_cast<std::size_t>(i)]] = plain[b][i].flip({1});
        continue;
      }
      std::vector<Point2f> pts;
      for (int i = 0; i < spec.num_points; ++i)
        pts.push_back({1.0f - plain[b][2 * i].item<float>(), plain[b][2 * i + 1].item<float>()});
      const std::vector<Point2f> relabelled = relabel_for_flip(pts, schema);
      for (int i = 0; i < spec.num_points; ++i) {
        want[b][2 * i] = relabelled[static_cast<std::size_t>(i)].x;
        want[b][2 * i + 1] = relabelled[static_cast<std::size_t>(i)].y;
      }
    }
    CHECK((mirrored - want).abs().max().item<double>() < 1e-5);
    CHECK((plain - model->forward(x)).abs().max().item<double>() > 1e-4);  // it is not the plain forward
  }
}

TEST_CASE("Baseline models match the seed's printout", "[models]") {
  for (const char* arch : {"Baseline", "Baseline_5x5", "Baseline_7x7", "Baseline_9x9"}) {
    INFO(arch);
    auto model = make_model(model_spec(arch));
    auto params = model->named_parameters();
    const int k = std::string(arch) == "Baseline" ? 3 : std::string(arch)[9] - '0';
    CHECK(params["conv1.weight"].sizes() == torch::IntArrayRef({16, 1, k, k}));
    CHECK(params["conv5.weight"].sizes() == torch::IntArrayRef({256, 128, k, k}));
    CHECK(params["fc.weight"].sizes() == torch::IntArrayRef({256, 8960}));
    CHECK(params["fc2.weight"].sizes() == torch::IntArrayRef({116, 256}));
  }
  CHECK_THROWS_WITH(model_spec("ResNet99"), Catch::Matchers::ContainsSubstring("unknown model 'ResNet99'") && Catch::Matchers::ContainsSubstring("Baseline_7x7"));
}

TEST_CASE("checkpoint save -> load is bit-exact", "[checkpoint]") {
  torch::manual_seed(7);
  const ModelSpec spec = model_spec("SimpleModel");
  auto model = make_model(spec);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
  Adam opt(named, {});
  // Take one step so the optimizer has non-trivial moments to save.
  auto loss = model->forward(torch::rand({3, 1, 60, 80})).pow(2).mean();
  loss.backward();
  opt.step();

  const std::string path = (std::filesystem::temp_directory_path() / "facekeys_ck.safetensors").string();
  save_checkpoint(path, spec, *model, &opt, 5, {{"note", "hello"}});
  Checkpoint ck = load_checkpoint(path);
  CHECK(ck.spec.arch == "SimpleModel");
  CHECK(ck.epoch == 5);
  CHECK(ck.optimizer_step == 1);
  CHECK(ck.metadata.at("note") == "hello");
  auto a = model->named_parameters(), b = ck.model->named_parameters();
  REQUIRE(a.size() == b.size());
  for (const auto& p : a) {
    INFO(p.key());
    CHECK(torch::equal(p.value(), b[p.key()]));
  }
  for (const auto& s : opt.state()) {
    INFO(s.first);
    REQUIRE(ck.optimizer_state.count(s.first) == 1);
    CHECK(torch::equal(s.second, ck.optimizer_state.at(s.first)));
  }
  // The same input gives the same output, bit for bit.
  auto x = torch::rand({2, 1, 60, 80});
  model->eval();
  ck.model->eval();
  CHECK(torch::equal(model->forward(x), ck.model->forward(x)));
  std::remove(path.c_str());
}

TEST_CASE("checkpoints of another architecture or format are rejected by name", "[checkpoint]") {
  const std::string path = (std::filesystem::temp_directory_path() / "facekeys_ck2.safetensors").string();
  auto model = make_model(model_spec("Baseline"));
  save_checkpoint(path, model_spec("Baseline"), *model, nullptr, 1);
  // Rewrite the metadata to claim another architecture: shapes no longer fit.
  SafeTensorsFile st = read_safetensors(path);
  st.metadata["arch"] = "Baseline_9x9";
  write_safetensors(path, st);
  CHECK_THROWS_WITH(load_checkpoint(path), Catch::Matchers::ContainsSubstring(path) && Catch::Matchers::ContainsSubstring("conv1.weight"));
  st.metadata["format"] = "pytorch";
  write_safetensors(path, st);
  CHECK_THROWS_WITH(load_checkpoint(path), Catch::Matchers::ContainsSubstring("not a facekeys checkpoint"));
  std::remove(path.c_str());
}

TEST_CASE("a checkpoint whose metadata contradicts its architecture is refused", "[checkpoint]") {
  const std::string path = (std::filesystem::temp_directory_path() / "facekeys_ck3.safetensors").string();
  auto model = make_model(model_spec("Baseline"));
  save_checkpoint(path, model_spec("Baseline"), *model, nullptr, 1);
  SafeTensorsFile st = read_safetensors(path);
  st.metadata["output"] = "heatmaps";  // a damaged output kind: --resume used to run on with it
  write_safetensors(path, st);
  CHECK_THROWS_WITH(load_checkpoint(path), Catch::Matchers::ContainsSubstring(path) &&
                                               Catch::Matchers::ContainsSubstring("metadata is damaged") &&
                                               Catch::Matchers::ContainsSubstring("'output' is 'heatmaps'"));
  st.metadata["output"] = "coords";
  st.metadata["input_w"] = "100000";
  write_safetensors(path, st);
  CHECK_THROWS_WITH(load_checkpoint(path), Catch::Matchers::ContainsSubstring("input size 100000x"));
  std::remove(path.c_str());
}
