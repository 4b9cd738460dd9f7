// The Part 1 networks (SimpleModel, SimpleModelDeeper: 3x3 convolutions on 80x60
// inputs, 1 -> 12 -> 24 -> 32 (-> 64) channels) train the same on every LibTorch
// version: a report had them stop with "training loss is not finite" under
// Debian 13's LibTorch 2.6 while SimpleModelLargeKernel (5x5) trained, which
// pointed at the convolution path a LibTorch picks for small inputs and few
// channels (oneDNN, NNPACK, the slow path: chosen by batch, threads and CPU).
// These cases need neither OpenCV nor the datasets, so they run in the LibTorch 2.x
// check too (scripts/test-libtorch2.sh): one training step's loss and every
// gradient against the same step in float64 (LibTorch's reference kernels), at
// the batch sizes and thread counts that switch paths, with LibTorch set up as
// `facekeys train` sets it up (pick_device, device.hpp: under 2.x without oneDNN,
// which Debian 13's got wrong on an AVX-512 EPYC on 2026-12-06); and a short
// `train` run on a synthetic pack, whose losses must stay finite.
#include "models/models.hpp"
#include "train/device.hpp"
#include "train/trainer.hpp"

#include <cmath>
#include <filesystem>
#include <random>

#include "facekeys/pack.hpp"
#include "support/test_helpers.hpp"

#include "support/catch.hpp"

using namespace facekeys;

namespace {

// Restores LibTorch's intra-op thread count when a case ends, however it ends.
struct ThreadsGuard {
  int saved = at::get_num_threads();
  ~ThreadsGuard() { at::set_num_threads(saved); }
};

// The largest |a - b| / (max |b| + tiny) over a gradient, 0 when both are zero.
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  return (a.to(torch::kFloat64) - b).abs().max().item<double>() / (scale + 1e-30);
}

}  // namespace

TEST_CASE("SimpleModel-family training step: loss and gradients match float64 on every conv path",
          "[train][models][conv]") {
  ThreadsGuard threads;
  pick_device(DeviceChoice::Cpu);  // LibTorch as the trainer sets it up
  for (const char* arch : {"SimpleModel", "SimpleModelDeeper", "SimpleModelLargeKernel"}) {
    for (int64_t batch : {4, 16}) {
      for (int n_threads : {1, 2}) {
        INFO(arch << ", batch " << batch << ", " << n_threads << " thread(s), LibTorch " << TORCH_VERSION);
        at::set_num_threads(n_threads);
        torch::manual_seed(11);
        const ModelSpec spec = model_spec(arch);
        auto model = make_model(spec);
        auto reference = make_model(spec);
        {
          torch::NoGradGuard no_grad;
          auto from = model->parameters();
          auto to = reference->parameters();
          for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
        }
        reference->to(torch::kFloat64);
        // Inputs as the trainer feeds them: normalize_input's [-1, 1]; targets inside the frame.
        const auto x = torch::rand({batch, 1, spec.input_h, spec.input_w}) * 2 - 1;
        const auto points = torch::rand({batch, spec.num_points, 2}) * 0.5 + 0.25;

        const auto loss = keypoint_loss(model->forward(x), points, LossConfig{});
        loss.backward();
        const auto ref_pred = reference->forward(x.to(torch::kFloat64));
        const auto ref_loss = torch::mse_loss(ref_pred.view(points.sizes()), points.to(torch::kFloat64));
        ref_loss.backward();

        REQUIRE(std::isfinite(loss.item<double>()));
        CHECK(loss.item<double>() == Approx(ref_loss.item<double>()).epsilon(1e-4));
        const auto params = model->named_parameters();
        const auto ref_params = reference->parameters();
        for (std::size_t i = 0; i < params.size(); ++i) {
          INFO(params[i].key());
          const auto& g = params[i].value().grad();
          REQUIRE(g.defined());
          CHECK(torch::isfinite(g).all().item<bool>());
          CHECK(relative_error(g, ref_params[i].grad()) < 1e-3);
        }
      }
    }
  }
}

TEST_CASE("SimpleModel and SimpleModelDeeper train on a synthetic pack with finite losses", "[train][conv]") {
  // 80x60 gray frames with a bright blob at the nose tip (IMM point 52), the
  // other 57 points scattered: 32 train, 16 val.
  Pack pack = testing::imm58_pack_header(80, 60, "synthetic (tests/native/test_conv_paths.cpp)");
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> where(0.2f, 0.8f);
  std::uniform_int_distribution<int> noise(0, 40);
  for (int i = 0; i < 48; ++i) {
    std::vector<float> pts(58 * 2);
    for (auto& v : pts) v = where(rng);
    const float nx = pts[52 * 2] * 80.0f, ny = pts[52 * 2 + 1] * 60.0f;
    std::vector<std::uint8_t> img(80 * 60);
    for (int y = 0; y < 60; ++y)
      for (int x = 0; x < 80; ++x) {
        const float d2 = (x + 0.5f - nx) * (x + 0.5f - nx) + (y + 0.5f - ny) * (y + 0.5f - ny);
        img[static_cast<std::size_t>(y * 80 + x)] =
            static_cast<std::uint8_t>(std::min(255.0f, 40.0f + noise(rng) + 200.0f * std::exp(-d2 / 18.0f)));
      }
    pack.add("synthetic/" + std::to_string(i), img.data(), pts, i % 12, i < 32 ? Split::Train : Split::Val,
             {1, 0, 0, 0, 1, 0}, 80, 60);
  }
  const std::string dir = testing::fresh_temp_dir("facekeys_test_conv_paths");
  const std::string pack_path = dir + "/synthetic.pack";
  write_pack(pack_path, pack);

  for (const char* arch : {"SimpleModel", "SimpleModelDeeper"}) {
    INFO(arch << ", LibTorch " << TORCH_VERSION);
    TrainConfig cfg;
    cfg.model = arch;
    cfg.pack_path = pack_path;
    cfg.out_dir = dir + "/" + arch;
    cfg.device = DeviceChoice::Cpu;
    cfg.epochs = 3;
    cfg.batch = 16;  // the batch size the trainer defaults to
    cfg.quiet = true;
    TrainResult r;
    REQUIRE_NOTHROW(r = train(cfg));  // train() throws "training loss is not finite" on a NaN epoch
    CHECK(r.epochs_run == 3);
    CHECK(std::isfinite(r.final_train_loss));
    CHECK(std::isfinite(r.final_val_loss));
  }
}
