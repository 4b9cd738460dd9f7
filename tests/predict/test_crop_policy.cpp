// The crop policy travels: `pack ibug --margin 1.5` -> `train` -> `export` ->
// the card says 1.5 -> `predict` crops by it (docs/EXPORT.md, "crop").
// Real processes of the real binaries on real LFPW photos; a tiny ResNet18
// (64x64 input) trained for one epoch, so its points are near the mean shape.
#include <sys/wait.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "facekeys/crop.hpp"
#include "facekeys/face_detect.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/pack.hpp"
#include "facekeys/safetensors.hpp"
#include "predict/predict.hpp"
#include "support/test_helpers.hpp"
#include "tools/image_io.hpp"

#include "support/catch.hpp"
#include "support/program_runs.hpp"

using namespace facekeys;
namespace fs = std::filesystem;

namespace {

// Runs `program ARGS` with stdout to `out` and stderr to `out`.err; returns the exit status.
int run(const std::string& program, const std::vector<std::string>& args, const std::string& out) {
  using testing::shell_quote;
  std::string cmd = shell_quote(program);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " >" + shell_quote(out) + " 2>" + shell_quote(out + ".err");
  const int raw = std::system(cmd.c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

std::string log_of(const std::string& out) {
  std::string s;
  for (const std::string& f : {out, out + ".err"})
    if (fs::exists(f)) s += read_file_text(f);
  return s;
}

// The points `model` gives for the face the detector boxed as `detected` in `image`, the crop taken by
// `card`'s policy around the training-style box (as the photo job does: photo_job.hpp).
std::vector<Point2f> points_in_process(const KeypointModel& model, const ModelCard& card, const ImageU8& image,
                                       const Box& detected) {
  const Box face = ultraface_to_training_box(detected);
  const Box crop = keypoint_crop_box(card, image.width(), image.height(), &face);
  const std::vector<float> out = model.run(keypoint_model_input(image.view(), card, crop), 1);
  return keypoint_output_to_image(card, out.data(), out.size(), crop);
}

}  // namespace

TEST_CASE("pack ibug --margin 1.5 -> train -> export: the card crops by 1.5, and so does predict",
          "[predict][crop][data]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_crop_policy_test");
  const std::string lfpw = std::string(FACEKEYS_DATA_DIR) + "/300w/lfpw";
  // Eight training faces (two of them validate) and one photo to predict on.
  fs::create_directories(dir + "/train");
  for (int i = 1; i <= 8; ++i) {
    char stem[32];
    std::snprintf(stem, sizeof stem, "image_%04d", i);
    for (const char* ext : {".jpg", ".pts"})
      fs::create_symlink(lfpw + "/trainset/" + stem + ext, dir + "/train/" + stem + ext);
  }
  const std::string photo = lfpw + "/testset/image_0001.png";

  const std::string pack = dir + "/lfpw.pack";
  REQUIRE(run(FACEKEYS_EXE, {"pack", "ibug", "--train", dir + "/train", "--margin", "1.5", "--size", "64",
                             "--val-every", "4", "-o", pack},
              dir + "/pack.log") == 0);
  const Pack p = read_pack(pack);
  REQUIRE(p.framing.has_value());
  CHECK(p.framing->source == Framing::Source::FaceBox);
  CHECK(p.framing->face.margin == 1.5f);

  const std::string run_dir = dir + "/run";
  const std::string train_log = dir + "/train.log";
  const int trained = run(FACEKEYS_EXE,
                          {"train", "--pack", pack, "--model", "ResNet18", "--input-size", "64", "--epochs", "1",
                           "--batch", "4", "--device", "cpu", "--quiet", "-o", run_dir},
                          train_log);
  INFO(log_of(train_log));
  REQUIRE(trained == 0);
  const SafeTensorsFile ck = read_safetensors(run_dir + "/last.safetensors");
  CHECK(ck.metadata.at("crop_source") == "face-box");
  CHECK(ck.metadata.at("crop_margin") == "1.5");

  const std::string model_dir = dir + "/model";
  const std::string export_log = dir + "/export.log";
  const int exported = run(FACEKEYS_EXE, {"export", run_dir + "/last.safetensors", "-o", model_dir}, export_log);
  INFO(log_of(export_log));
  REQUIRE(exported == 0);
  CHECK(log_of(export_log).find("records no crop policy") == std::string::npos);
  const KeypointModel model(model_dir);  // the card as predict reads it
  const ModelCard& card = model.card();
  CHECK(card.crop.source == "face-box");
  CHECK(card.crop.margin == Approx(1.5));
  CHECK(card.crop.square);

  // The same network under a card that says 1.3 (the old default): a copy with only the margin changed.
  const std::string model13_dir = dir + "/model13";
  fs::create_directories(model13_dir);
  fs::copy_file(model_dir + "/model.onnx", model13_dir + "/model.onnx");
  ModelCard card13 = card;
  card13.crop.margin = 1.3;
  write_model_card(model13_dir + "/model.json", card13);

  // The crop boxes differ by the margins' ratio.
  const Box face{100.f, 80.f, 60.f, 70.f};
  const Box c15 = keypoint_crop_box(card, 400, 300, &face), c13 = keypoint_crop_box(card13, 400, 300, &face);
  CHECK(c15.w == Approx(c13.w * 1.5 / 1.3));
  CHECK(c15.center().x == Approx(c13.center().x));

  // predict crops by the card: its points are the network's on the card's crop of the face it found.
  const std::string detector = std::string(FACEKEYS_SOURCE_DIR) + "/assets/detectors/ultraface/version-RFB-320.onnx";
  const ImageU8 image = load_image_rgb(photo);
  std::vector<std::vector<Point2f>> predicted;
  for (const std::string& m : {model_dir, model13_dir}) {
    const std::string out = dir + "/predict_" + fs::path(m).filename().string() + ".json";
    REQUIRE(run(FACEKEYS_EXE, {"predict", "--model", m, "--detector", detector, photo}, out) == 0);
    const Json result = Json::parse(read_file_text(out), out);
    const auto& faces = result.at("faces").as_array();
    REQUIRE_FALSE(faces.empty());
    const auto& b = faces[0].at("box").as_array();
    const Box box{static_cast<float>(b[0].as_number()), static_cast<float>(b[1].as_number()),
                  static_cast<float>(b[2].as_number()), static_cast<float>(b[3].as_number())};
    std::vector<Point2f> pts;
    for (const Json& pt : faces[0].at("points").as_array())
      pts.push_back({static_cast<float>(pt.as_array()[0].as_number()), static_cast<float>(pt.as_array()[1].as_number())});
    REQUIRE(pts.size() == 68u);
    const std::vector<Point2f> expected = points_in_process(model, m == model_dir ? card : card13, image, box);
    double worst = 0;
    for (std::size_t k = 0; k < pts.size(); ++k)
      worst = std::max(worst, static_cast<double>(std::hypot(pts[k].x - expected[k].x, pts[k].y - expected[k].y)));
    INFO(m << ": largest distance from the in-process points of its card's crop " << worst << " px");
    CHECK(worst < 0.25);  // the box and points are printed to 0.01 px
    predicted.push_back(pts);
  }
  // And the two margins give different points: the crop policy reached predict.
  double largest = 0;
  for (std::size_t k = 0; k < 68; ++k)
    largest = std::max(largest, static_cast<double>(std::hypot(predicted[0][k].x - predicted[1][k].x,
                                                               predicted[0][k].y - predicted[1][k].y)));
  CHECK(largest > 2.0);
}
