// 68-point models on 300-W data: shapes, heatmap targets and decoding, the KL
// loss, the iBUG pack (crop round trip, bad input) and a short overfit.
// LibTorch first: its glog CHECK macro must not replace Catch's.
#include "train/batch_stream.hpp"
#include "train/checkpoint.hpp"
#include "eval/evaluate.hpp"
#include "models/models.hpp"
#include "train/trainer.hpp"
#ifdef FACEKEYS_WITH_OPENCV
#include "tools/pack_datasets.hpp"
#include "tools/report.hpp"
#endif

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>

#include "support/test_helpers.hpp"
#include "facekeys/dlib_xml.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/heatmap.hpp"
#include "facekeys/json.hpp"
#include "facekeys/pts.hpp"
#include "facekeys/safetensors.hpp"
#include "facekeys/schema.hpp"

#include "support/catch.hpp"

using namespace facekeys;
namespace fs = std::filesystem;

namespace {

std::string temp_dir(const std::string& name) { return testing::fresh_temp_dir("facekeys_ibug_" + name); }

// Used by the cases that need OpenCV (pack ibug); unused in a LibTorch-only build.
[[maybe_unused]] std::string data_300w() { return std::string(FACEKEYS_DATA_DIR) + "/300w"; }

// Random normalised points [B, K, 2] in [lo, hi].
torch::Tensor random_points(int64_t b, int64_t k, double lo, double hi) {
  return torch::rand({b, k, 2}) * (hi - lo) + lo;
}

}  // namespace

TEST_CASE("ResNet18/34 output 136 coordinates, the U-Net 68 maps at half resolution", "[ibug][models]") {
  torch::NoGradGuard no_grad;
  for (const char* arch : {"ResNet18", "ResNet34"}) {
    INFO(arch);
    const ModelSpec spec = model_spec(arch);
    CHECK(spec.schema == "ibug68");
    CHECK(spec.input_w == 224);
    CHECK(spec.input_h == 224);
    CHECK(spec.channels == 1);
    auto model = make_model(spec);
    model->eval();
    CHECK(model->forward(torch::zeros({2, 1, 224, 224})).sizes() == torch::IntArrayRef({2, 136}));
    // torchvision's names, and the two new FC layers.
    auto params = model->named_parameters();
    CHECK(params["conv1.weight"].sizes() == torch::IntArrayRef({64, 1, 7, 7}));
    CHECK(params["layer2.0.downsample.0.weight"].sizes() == torch::IntArrayRef({128, 64, 1, 1}));
    CHECK(params["layer4.1.conv2.weight"].sizes() == torch::IntArrayRef({512, 512, 3, 3}));
    CHECK(params["fc.weight"].sizes() == torch::IntArrayRef({256, 512}));
    CHECK(params["fc2.weight"].sizes() == torch::IntArrayRef({136, 256}));
    CHECK(model->named_buffers().contains("bn1.running_mean"));
  }
  CHECK(make_model(model_spec("ResNet34"))->named_parameters().contains("layer3.5.conv2.weight"));
  CHECK_FALSE(make_model(model_spec("ResNet18"))->named_parameters().contains("layer3.2.conv1.weight"));

  const ModelSpec unet = model_spec("HeatmapUNet");
  CHECK(unet.output == OutputKind::Heatmaps);
  CHECK(unet.num_points == 68);
  auto model = make_model(unet);
  model->eval();
  CHECK(model->forward(torch::zeros({2, 1, unet.input_h, unet.input_w})).sizes() ==
        torch::IntArrayRef({2, 68, unet.input_h / 2, unet.input_w / 2}));
  ModelSpec odd = unet;
  odd.input_w = 100;
  CHECK_THROWS_WITH(make_model(odd), Catch::Matchers::ContainsSubstring("multiples of 16"));
}

TEST_CASE("torch Gaussian targets equal the shared core's gaussian_heatmaps", "[ibug][heatmap]") {
  const int64_t H = 24, W = 40, K = 7;  // not square: catches swapped axes
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Interior, on a cell centre, on the border, partly outside, far outside, NaN.
  std::vector<float> uv = {0.5f, 0.5f, (3 + 0.5f) / W, (5 + 0.5f) / H, 0.01f, 0.99f, 1.02f, 0.4f,
                           -0.5f, 0.5f, nan, 0.3f, 0.77f, 0.13f};
  auto pts = torch::from_blob(uv.data(), {1, K, 2}, torch::kFloat32).clone();
  for (double sigma : {1.0, 1.5, 2.5}) {
    INFO("sigma " << sigma);
    auto t = heatmap_targets(pts, H, W, sigma).contiguous();
    REQUIRE(t.sizes() == torch::IntArrayRef({1, K, H, W}));
    std::vector<float> hm;
    for (int k = 0; k < K; ++k) {
      // Normalised -> heatmap cells, the core's pixel convention.
      Point2f p = from_normalized(Point2f{uv[2 * k], uv[2 * k + 1]}, static_cast<int>(W), static_cast<int>(H));
      hm.push_back(std::isfinite(uv[2 * k]) ? p.x : nan);
      hm.push_back(p.y);
    }
    auto core = gaussian_heatmaps(hm, K, H, W, static_cast<float>(sigma), HeatmapNorm::Sum);
    const float* a = t.data_ptr<float>();
    double worst = 0;
    for (std::size_t i = 0; i < core.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - core[i]));
    CHECK(worst < 1e-6);
    // Sum-normalised: each map sums to 1, except the far-outside and NaN points (all zeros).
    auto sums = t.sum({2, 3});
    CHECK(sums[0][0].item<float>() == Approx(1.0).epsilon(1e-5));
    CHECK(sums[0][4].item<float>() == 0.0f);
    CHECK(sums[0][5].item<float>() == 0.0f);
  }
}

TEST_CASE("heatmap targets decode back to their points through the model's output layout", "[ibug][heatmap]") {
  torch::manual_seed(3);
  const ModelSpec spec = model_spec("HeatmapUNet");
  torch::NoGradGuard no_grad;
  auto out = make_model(spec)->forward(torch::zeros({1, 1, spec.input_h, spec.input_w}));
  const int64_t h = out.size(2), w = out.size(3);
  auto pts = random_points(3, spec.num_points, 0.03, 0.97);
  for (double sigma : {1.0, 1.5, 2.0}) {
    INFO("sigma " << sigma);
    auto logits = torch::log(heatmap_targets(pts, h, w, sigma) + 1e-12);  // the "perfect" model output
    auto decoded = decode_heatmaps_normalized(logits);                      // [B, 2K] normalised
    REQUIRE(decoded.sizes() == torch::IntArrayRef({3, 2 * spec.num_points}));
    auto err = (decoded.view({3, spec.num_points, 2}) - pts).abs();
    const double err_cells = std::max(err.select(2, 0).max().item<double>() * w, err.select(2, 1).max().item<double>() * h);
    CHECK(err_cells < 0.05);
  }
}

TEST_CASE("KL heatmap loss: zero for a perfect prediction, positive otherwise", "[ibug][heatmap]") {
  torch::manual_seed(4);
  auto pts = random_points(2, 68, 0.1, 0.9);
  auto target = heatmap_targets(pts, 32, 32, 1.5);
  const double perfect = heatmap_kl_loss(torch::log(target + 1e-12), target).item<double>();
  CHECK(std::abs(perfect) < 1e-5);
  const double shifted = heatmap_kl_loss(torch::log(heatmap_targets(pts + 2.0 / 32, 32, 32, 1.5) + 1e-12), target)
                             .item<double>();
  CHECK(shifted > 0.1);
  CHECK(heatmap_kl_loss(torch::randn({2, 68, 32, 32}), target).item<double>() > 0.1);
  // keypoint_loss picks KL for maps, the coordinate loss for [B, 2K].
  LossConfig cfg;
  CHECK(keypoint_loss(torch::log(target + 1e-12), pts, cfg).item<double>() == Approx(perfect).margin(1e-6));
  // A point far outside the map has no target: its map adds nothing, whatever the logits.
  auto far = pts.clone();
  far[0][0][0] = -3.0;
  auto t_far = heatmap_targets(far, 32, 32, 1.5);
  CHECK(t_far[0][0].sum().item<float>() == 0.0f);
  auto logits = torch::log(t_far + 1e-12);
  logits[0][0] = torch::randn({32, 32});
  CHECK(std::abs(heatmap_kl_loss(logits, t_far).item<double>()) < 1e-5);

  auto coords = pts.view({2, 136});
  for (const char* name : {"mse", "l1", "smoothl1", "wing"}) {
    INFO(name);
    cfg.coord_loss = coord_loss_from_name(name);
    CHECK(keypoint_loss(coords, pts, cfg).item<double>() == 0.0);
    CHECK(keypoint_loss(coords + 0.05, pts, cfg).item<double>() > 0.0);
  }
  CHECK_THROWS_WITH(coord_loss_from_name("l3"), Catch::Matchers::ContainsSubstring("unknown loss 'l3'"));
}

TEST_CASE("wing loss: log-shaped inside w, linear outside, continuous at w", "[ibug][loss]") {
  const double w = 0.05, eps = 0.01;
  auto at = [&](double err) {
    return wing_loss(torch::full({1}, err, torch::kFloat64), torch::zeros({1}, torch::kFloat64), w, eps).item<double>();
  };
  CHECK(at(0.0) == 0.0);
  CHECK(at(0.01) == Approx(w * std::log(2.0)).epsilon(1e-12));
  CHECK(at(-0.01) == Approx(at(0.01)).epsilon(1e-12));
  const double c = w - w * std::log(1.0 + w / eps);
  CHECK(at(0.2) == Approx(0.2 - c).epsilon(1e-12));
  CHECK(at(w - 1e-9) == Approx(at(w + 1e-9)).margin(1e-8));
  // Small errors get a steeper gradient than L1 (w/eps = 5 at 0), large ones L1's.
  auto x = torch::tensor({0.001, 0.3}, torch::dtype(torch::kFloat64).requires_grad(true));
  wing_loss(x, torch::zeros({2}, torch::kFloat64), w, eps).backward();
  CHECK(x.grad()[0].item<double>() == Approx(w / (eps + 0.001) / 2).epsilon(1e-9));
  CHECK(x.grad()[1].item<double>() == Approx(0.5).epsilon(1e-12));
  CHECK_THROWS_WITH(wing_loss(x, x, 0.0, eps), Catch::Matchers::ContainsSubstring("w and eps must be > 0"));
}

TEST_CASE("pretrained weights by path (--init): matching tensors load by name, the rest is skipped", "[ibug][checkpoint]") {
  const std::string dir = temp_dir("init");
  const std::string path = dir + "/r18.safetensors";
  torch::manual_seed(5);
  auto r18 = make_model(model_spec("ResNet18"));
  save_checkpoint(path, model_spec("ResNet18"), *r18, nullptr, 1);
  auto r34 = make_model(model_spec("ResNet34"));
  std::vector<std::string> notes;
  const int loaded = load_matching_weights(*r34, path, &notes);
  CHECK(loaded > 20);
  CHECK(torch::equal(r34->named_parameters()["layer1.0.conv1.weight"], r18->named_parameters()["layer1.0.conv1.weight"]));
  CHECK(torch::equal(r34->named_parameters()["fc2.weight"], r18->named_parameters()["fc2.weight"]));
  bool noted_missing = false;
  for (const auto& n : notes) noted_missing |= n.find("layer3.5.conv1.weight") != std::string::npos;
  CHECK(noted_missing);

  // An RGB conv1 (ImageNet layout) is summed into the gray one; a wrong fc is skipped.
  SafeTensorsFile st;
  auto put = [&](const std::string& name, const torch::Tensor& t) {
    TensorRecord r;
    r.name = name;
    r.shape.assign(t.sizes().begin(), t.sizes().end());
    r.bytes.resize(t.numel() * sizeof(float));
    std::memcpy(r.bytes.data(), t.contiguous().data_ptr<float>(), r.bytes.size());
    st.tensors.push_back(r);
  };
  auto rgb = torch::randn({64, 3, 7, 7});
  put("conv1.weight", rgb);
  put("fc.weight", torch::randn({1000, 512}));
  write_safetensors(path, st);
  notes.clear();
  CHECK(load_matching_weights(*r34, path, &notes) == 1);
  CHECK(torch::allclose(r34->named_parameters()["conv1.weight"], rgb.sum(1, true)));
  st.tensors.erase(st.tensors.begin());
  write_safetensors(path, st);
  CHECK_THROWS_WITH(load_matching_weights(*r34, path, &notes), Catch::Matchers::ContainsSubstring(path) && Catch::Matchers::ContainsSubstring("no tensor"));
  fs::remove_all(dir);
}

TEST_CASE("a narrower U-Net starts from a wider one's first channels (--init)", "[ibug][checkpoint]") {
  const std::string dir = temp_dir("narrow");
  const std::string path = dir + "/small.safetensors";
  torch::manual_seed(6);
  ModelSpec spec = model_spec("HeatmapUNetSmall");
  spec.input_w = spec.input_h = 32;
  auto wide = make_model(spec);
  save_checkpoint(path, spec, *wide, nullptr, 1);
  spec.arch = "HeatmapUNetTiny";
  auto tiny = make_model(spec);
  std::vector<std::string> notes;
  const int loaded = load_matching_weights(*tiny, path, &notes);
  CHECK(loaded == static_cast<int>(tiny->named_parameters().size() + tiny->named_buffers().size()));
  auto w = wide->named_parameters(), t = tiny->named_parameters();
  int cut = 0;
  std::map<std::string, torch::Tensor> wide_tensors;
  for (auto& [name, tensor] : named_tensors(*wide)) wide_tensors[name] = tensor;
  for (auto& [name, tensor] : named_tensors(*tiny)) cut += tensor.sizes() != wide_tensors.at(name).sizes();
  CHECK(cut > 60);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0] == std::to_string(cut) + " tensors of a wider model, cut to their first channels");
  // Widths 16 -> 12: each layer keeps its first channels...
  CHECK(torch::equal(t["inc.body.0.weight"], w["inc.body.0.weight"].narrow(0, 0, 12)));
  CHECK(torch::equal(t["down2.body.3.weight"], w["down2.body.3.weight"].narrow(0, 0, 48).narrow(1, 0, 48)));
  CHECK(torch::equal(tiny->named_buffers()["down4.body.4.running_var"],
                     wide->named_buffers()["down4.body.4.running_var"].narrow(0, 0, 96)));
  CHECK(torch::equal(t["up1t.weight"], w["up1t.weight"].narrow(0, 0, 96).narrow(1, 0, 96)));
  CHECK(torch::equal(t["head.weight"], w["head.weight"].narrow(1, 0, 24)));
  // ... and a decoder conv reading cat(up1t's output, down3's) the first of each half.
  const auto up1 = w["up1.body.0.weight"].narrow(0, 0, 48);
  CHECK(torch::equal(t["up1.body.0.weight"], torch::cat({up1.narrow(1, 0, 96), up1.narrow(1, 128, 96)}, 1)));
  // A narrower model cannot widen: the wider one keeps its own weights.
  save_checkpoint(path, spec, *tiny, nullptr, 1);
  const auto before = w["inc.body.0.weight"].clone();
  notes.clear();
  load_matching_weights(*wide, path, &notes);
  CHECK(torch::equal(w["inc.body.0.weight"], before));
  bool skipped = false;
  for (const auto& n : notes) skipped |= n.find("'inc.body.0.weight' has shape [12, 1, 3, 3]") != std::string::npos;
  CHECK(skipped);
  fs::remove_all(dir);
}

#ifdef FACEKEYS_WITH_OPENCV
namespace {

// The first n <image> elements of the real LFPW training XML, with absolute
// image paths, as a standalone dlib XML file.
std::string small_xml(const std::string& dir, int n) {
  const std::string text = read_file_text(data_300w() + "/labels_lfpw_trainset.xml");
  std::string out = "<?xml version='1.0'?>\n<dataset>\n<images>\n";
  std::size_t pos = 0;
  for (int i = 0; i < n; ++i) {
    const std::size_t a = text.find("<image ", pos), b = text.find("</image>", a);
    REQUIRE(b != std::string::npos);
    std::string img = text.substr(a, b + 8 - a);
    const std::string key = "file='";
    img.insert(img.find(key) + key.size(), data_300w() + "/");
    out += img + "\n";
    pos = b;
  }
  out += "</images>\n</dataset>\n";
  const std::string path = dir + "/small.xml";
  write_file_atomic(path, out);
  return path;
}

const Pack& six_image_pack(IbugPackStats* stats_out = nullptr) {
  static IbugPackStats stats;
  static const Pack pack = [] {
    const std::string dir = temp_dir("pack6");
    IbugPackOptions opt;
    opt.val_every = 3;  // 4 train, 2 val
    return pack_ibug(small_xml(dir, 6), opt, false, &stats);
  }();
  if (stats_out) *stats_out = stats;
  return pack;
}

std::string xml_with(const std::string& dir, const std::string& image_file, const std::string& box) {
  std::string parts;
  for (int k = 0; k < 68; ++k) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "      <part name='%02d' x='%d' y='%d'/>\n", k, 120 + k, 250 + k % 10);
    parts += buf;
  }
  const std::string path = dir + "/bad.xml";
  write_file_atomic(path, "<dataset>\n<images>\n  <image file='" + image_file + "'>\n    " + box + "\n" + parts +
                              "    </box>\n  </image>\n</images>\n</dataset>\n");
  return path;
}

}  // namespace

TEST_CASE("pack ibug: LFPW crops at 224, transforms map points back to the original pixels", "[ibug][pack][data]") {
  IbugPackStats stats;
  const Pack& pack = six_image_pack(&stats);
  REQUIRE(pack.size() == 6);
  CHECK(pack.schema == "ibug68");
  CHECK(pack.width == 224);
  CHECK(pack.height == 224);
  CHECK(pack.channels == 1);
  CHECK(pack.count(Split::Train) == 4);
  CHECK(pack.count(Split::Val) == 2);
  CHECK(pack.person[0] == -1);
  CHECK(stats.images == 6);

  // Crop round trip: pack-normalised points -> original pixels == the XML's points.
  const std::string dir = temp_dir("pack6_check");
  const DlibDataset ds = read_dlib_xml(small_xml(dir, 6), 68);
  for (std::size_t i = 0; i < pack.size(); ++i) {
    auto back = pack_normalized_to_original(pack, static_cast<std::int64_t>(i), &pack.points[i * 136], 68);
    auto truth = dense_points(ds.images[i].boxes[0], 68, "xml");
    double worst = 0;
    for (int k = 0; k < 68; ++k)
      worst = std::max({worst, double(std::abs(back[2 * k] - truth[k].x)), double(std::abs(back[2 * k + 1] - truth[k].y))});
    CHECK(worst < 1e-3);
    CHECK(pack.original_size[2 * i] == ds.images[i].width.value());
  }

  SECTION("a .pts folder with the box CSV gives the same faces") {
    const std::string ptsdir = temp_dir("ptsdir");
    for (const char* stem : {"image_0001", "image_0002"}) {
      const std::string src = data_300w() + "/lfpw/trainset/" + stem;
      fs::copy_file(src + ".pts", ptsdir + "/" + stem + ".pts");
      fs::create_symlink(src + ".jpg", ptsdir + "/" + stem + ".jpg");
    }
    IbugPackOptions opt;
    opt.boxes_csv = data_300w() + "/boxes_lfpw.csv";
    Pack p = pack_ibug(ptsdir, opt, /*test=*/true);
    REQUIRE(p.size() == 2);
    CHECK(p.count(Split::Test) == 2);
    CHECK(p.names[0] == "lfpw/trainset/image_0001.jpg");
    // .pts points are exact; the XML's are rounded to integers.
    auto pts = read_pts(data_300w() + "/lfpw/trainset/image_0001.pts", 68);
    auto back = pack_normalized_to_original(p, 0, p.points.data(), 68);
    for (int k = 0; k < 68; ++k) {
      CHECK(std::abs(back[2 * k] - pts[k].x) < 1e-3);
      CHECK(std::abs(back[2 * k + 1] - pts[k].y) < 1e-3);
    }
    // Without the CSV (an official 300-W download has none): the tight box around
    // the points, which the CSV's 'lm' columns hold, gives the same crops as --box-column lm.
    Pack plain = pack_ibug(ptsdir, IbugPackOptions{}, /*test=*/true);
    IbugPackOptions lm = opt;
    lm.box_column = "lm";
    Pack from_lm = pack_ibug(ptsdir, lm, /*test=*/true);
    REQUIRE(plain.size() == 2);
    CHECK(plain.names[0] == fs::path(ptsdir).filename().string() + "/image_0001.jpg");
    CHECK(plain.source.find("tight box around the points") != std::string::npos);
    for (std::size_t i = 0; i < plain.image_to_pack.size(); ++i)
      CHECK(std::abs(plain.image_to_pack[i] - from_lm.image_to_pack[i]) < 0.01);
    fs::remove_all(ptsdir);
  }
  fs::remove_all(dir);
}

TEST_CASE("pack ibug: bad input names the file and line", "[ibug][pack][data]") {
  const std::string dir = temp_dir("bad");
  const std::string image = data_300w() + "/lfpw/trainset/image_0001.jpg";
  SECTION("malformed XML") {
    const std::string path = dir + "/broken.xml";
    write_file_atomic(path, "<dataset>\n<images>\n  <image file='a.jpg'>\n    <box top='1' left='2' width='3'\n");
    CHECK_THROWS_WITH(pack_ibug(path, IbugPackOptions{}), Catch::Matchers::ContainsSubstring("broken.xml:"));
  }
  SECTION("a missing image") {
    const std::string path = xml_with(dir, dir + "/nowhere.jpg", "<box top='200' left='100' width='180' height='180'>");
    CHECK_THROWS_WITH(pack_ibug(path, IbugPackOptions{}),
                      Catch::Matchers::ContainsSubstring("bad.xml:4") && Catch::Matchers::ContainsSubstring("nowhere.jpg") && Catch::Matchers::ContainsSubstring("no such image"));
  }
  SECTION("a box outside the image") {
    const std::string path = xml_with(dir, image, "<box top='200' left='5000' width='180' height='180'>");
    CHECK_THROWS_WITH(pack_ibug(path, IbugPackOptions{}),
                      Catch::Matchers::ContainsSubstring("bad.xml:4") && Catch::Matchers::ContainsSubstring("outside the 412x600 image"));
  }
  SECTION("an image whose header claims 100000x100000 pixels") {
    // A PNG signature and IHDR alone: refused by its header, before OpenCV sees it.
    const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'I', 'H', 'D', 'R',
                                 0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0, 8, 2, 0, 0, 0, 0, 0, 0, 0};
    const std::string huge = dir + "/huge.png";
    write_file_atomic(huge, png, sizeof png);
    const std::string path = xml_with(dir, huge, "<box top='200' left='100' width='180' height='180'>");
    CHECK_THROWS_WITH(pack_ibug(path, IbugPackOptions{}),
                      Catch::Matchers::ContainsSubstring("huge.png") && Catch::Matchers::ContainsSubstring("100000x100000"));
  }
  SECTION("a .pts with 67 points") {
    const std::string ptsdir = dir + "/pts";
    fs::create_directories(ptsdir);
    fs::create_symlink(image, ptsdir + "/image_0001.jpg");
    std::string text = read_file_text(data_300w() + "/lfpw/trainset/image_0001.pts");
    IbugPackOptions opt;
    opt.boxes_csv = data_300w() + "/boxes_lfpw.csv";
    // Header says 67.
    std::string h67 = text;
    h67.replace(h67.find("68"), 2, "67");
    write_file_atomic(ptsdir + "/image_0001.pts", h67);
    CHECK_THROWS_WITH(pack_ibug(ptsdir, opt),
                      Catch::Matchers::ContainsSubstring("image_0001.pts:2") && Catch::Matchers::ContainsSubstring("expected 68 points, file has 67"));
    // Header says 68, but one coordinate line is missing.
    std::string l67 = text;
    const std::size_t last = l67.rfind('\n', l67.rfind('}') - 2);
    l67.erase(last, l67.rfind('}') - 1 - last);
    write_file_atomic(ptsdir + "/image_0001.pts", l67);
    CHECK_THROWS_WITH(pack_ibug(ptsdir, opt), Catch::Matchers::ContainsSubstring("image_0001.pts:71"));
  }
  SECTION("the box CSV or one .pts file given as the annotations") {
    CHECK_THROWS_WITH(pack_ibug(data_300w() + "/boxes_lfpw.csv", IbugPackOptions{}),
                      Catch::Matchers::ContainsSubstring("boxes_lfpw.csv") && Catch::Matchers::ContainsSubstring("goes to --boxes"));
    CHECK_THROWS_WITH(pack_ibug(data_300w() + "/lfpw/trainset/image_0001.pts", IbugPackOptions{}),
                      Catch::Matchers::ContainsSubstring("image_0001.pts") && Catch::Matchers::ContainsSubstring("give the folder"));
  }
  SECTION("a folder without .pts files") {
    CHECK_THROWS_WITH(pack_ibug(dir, IbugPackOptions{}), Catch::Matchers::ContainsSubstring(dir) && Catch::Matchers::ContainsSubstring("no .pts files"));
  }
  fs::remove_all(dir);
}

TEST_CASE("overfitting a few LFPW faces: ResNet18 steps, the heatmap U-Net end to end", "[ibug][train][data]") {
  const Pack& six = six_image_pack();
  const std::string dir = temp_dir("overfit");

  SECTION("ResNet18 (32x32 input): 20 Adam steps on 4 faces cut the MSE 5x") {
    torch::manual_seed(11);
    ModelSpec spec = model_spec("ResNet18");
    spec.input_w = spec.input_h = 32;
    const std::string pack_path = dir + "/six.pack";
    write_pack(pack_path, six);
    const DeviceSplit train = load_split(six, pack_path, Split::Train, spec, torch::kCPU);
    REQUIRE(train.images.sizes() == torch::IntArrayRef({4, 1, 32, 32}));
    auto model = make_model(spec);
    model->train();
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (auto& p : model->named_parameters()) named.emplace_back(p.key(), p.value());
    Adam opt(named, {1e-3, 0.9, 0.999, 1e-8, 0.0});
    AugmentConfig no_aug;
    no_aug.enabled = false;
    const Augmenter augmenter = augmenter_for(train, spec, no_aug);
    auto idx = torch::arange(4, torch::kInt64);
    std::vector<double> losses;
    for (int step = 0; step < 20; ++step)
      losses.push_back(training_step(*model, opt, make_training_batch(train, idx, augmenter), false).item<double>());
    INFO("first loss " << losses.front() << ", last " << losses.back());
    CHECK(losses.back() * 5 <= losses.front());
  }

  SECTION("HeatmapUNet (32x32 input, 16x16 maps): train, eval, Kaggle CSV, report with CED and heatmaps") {
    // The 4 training faces repeated 8 times: 4 steps of 8 per epoch, so 20
    // steps cost 5 epochs of validation and checkpoint writing, not 20.
    Pack full = six;
    for (int copy = 1; copy < 8; ++copy)
      for (std::size_t i = 0; i < six.size(); ++i) {
        if (six.split[i] != static_cast<std::uint8_t>(Split::Train)) continue;
        std::vector<float> pts(six.points.begin() + i * 136, six.points.begin() + (i + 1) * 136);
        std::array<double, 6> m;
        std::copy_n(six.image_to_pack.begin() + i * 6, 6, m.begin());
        full.add(six.names[i], &six.pixels[i * six.image_bytes()], pts, -1, Split::Train, m,
                 six.original_size[2 * i], six.original_size[2 * i + 1]);
      }
    REQUIRE(full.count(Split::Train) == 32);
    const std::string pack_path = dir + "/rep.pack";
    write_pack(pack_path, full);

    TrainConfig cfg;
    cfg.model = "HeatmapUNet";
    cfg.pack_path = pack_path;
    cfg.out_dir = dir + "/unet";
    cfg.epochs = 5;
    cfg.batch = 8;
    cfg.lr = 3e-3;
    cfg.device = DeviceChoice::Cpu;
    cfg.input_size = 32;
    cfg.augment.enabled = false;
    cfg.quiet = true;
    TrainResult r = train(cfg);
    std::vector<double> losses;
    std::istringstream in(read_file_text(r.metrics_file));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) losses.push_back(Json::parse(line, r.metrics_file).at("train_loss").as_number());
    REQUIRE(losses.size() == 5);
    INFO("first epoch KL " << losses.front() << ", last " << losses.back());
    CHECK(losses.back() * 2 <= losses.front());

    Checkpoint ck = load_checkpoint(r.last_checkpoint);
    CHECK(ck.spec.input_w == 32);
    CHECK(ck.spec.output == OutputKind::Heatmaps);
    {  // a fine-tune from these weights keeps their input size unless --input-size says otherwise
      TrainConfig tune = cfg;
      tune.init = r.last_checkpoint;
      tune.input_size = 0;
      tune.epochs = 1;
      tune.out_dir = dir + "/tune";
      CHECK(load_checkpoint(train(tune).last_checkpoint).spec.input_w == 32);
    }
    // the run's configuration names the loss heatmap models train with
    CHECK(Json::parse(read_file_text(cfg.out_dir + "/config.json"), "config.json").at("loss").as_string() == "kl");
    Predictions p = predict_split(*ck.model, ck.spec, full, pack_path, Split::Train, DeviceChoice::Cpu);
    Json m = metrics_json(p, full);
    for (const char* key : {"seed_mae", "kaggle_mae", "nme", "fr_010", "auc_010"}) {
      INFO(key);
      CHECK(std::isfinite(m.at(key).as_number()));
    }
    // Overfit: the training faces are found to a fraction of the inter-ocular distance.
    CHECK(m.at("nme").as_number() < 0.3);
    const std::string csv = kaggle_csv(p, full);
    CHECK(csv.rfind("Id,Predicted\n", 0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 32 * 68 * 2);
    CHECK(csv.find("\nimage_0001_0_x,") != std::string::npos);
    CHECK(csv.find("\nimage_0001-1_67_y,") != std::string::npos);

    const std::string preds = cfg.out_dir + "/predictions.json";
    write_file_atomic(preds, predictions_json(p, full).dump());
    ReportConfig rc;
    rc.run_dir = cfg.out_dir;
    rc.pack_path = pack_path;
    rc.predictions_path = preds;
    rc.overlays = 1;
    rc.heatmaps_path = cfg.out_dir + "/heatmaps.safetensors";
    write_heatmap_samples(rc.heatmaps_path, *ck.model, p, full, pack_path, DeviceChoice::Cpu);
    write_report(rc);
    for (const char* f : {"ced.png", "pred_best_0.png", "pred_median_0.png", "pred_worst_0.png", "heatmap_best.png",
                          "heatmap_median.png", "heatmap_worst.png", "report.md"}) {
      INFO(f);
      CHECK(fs::exists(cfg.out_dir + "/" + f));
    }
    // Coordinate models have no maps to show.
    auto resnet = make_model(model_spec("ResNet18"));
    Predictions pr = p;
    pr.spec = model_spec("ResNet18");
    CHECK_THROWS_WITH(write_heatmap_samples(dir + "/h.safetensors", *resnet, pr, full, pack_path, DeviceChoice::Cpu),
                      Catch::Matchers::ContainsSubstring("no heatmaps"));
  }
  fs::remove_all(dir);
}
#endif
