#include "predict/predict.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <stdexcept>

#include "facekeys/draw.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/image_header.hpp"
#include "facekeys/keypoint_pipeline.hpp"
#include "facekeys/model_check.hpp"
#include "facekeys/photo_job.hpp"
#include "facekeys/predict_result.hpp"
#include "facekeys/schema.hpp"
#include "tools/image_io.hpp"

#ifndef FACEKEYS_SOURCE_DIR
#define FACEKEYS_SOURCE_DIR ""
#endif
#ifndef FACEKEYS_DATA_DIR
#define FACEKEYS_DATA_DIR ""
#endif

namespace facekeys {
namespace fs = std::filesystem;

namespace {

cv::Mat nchw_blob(const std::vector<float>& data, int n, int c, int h, int w) {
  const int dims[4] = {n, c, h, w};
  // OpenCV DNN copies the input in setInput, so wrapping is enough.
  return cv::Mat(4, dims, CV_32F, const_cast<float*>(data.data()));
}

std::string shape_str(const cv::Mat& m) {
  std::string s = "[";
  for (int i = 0; i < m.dims; ++i) s += (i ? ", " : "") + std::to_string(m.size[i]);
  return s + "]";
}

// One network call of a photo job (photo_job.hpp) on an OpenCV DNN graph: the
// run's input, its named outputs back as flat float vectors.
std::vector<std::vector<float>> forward(cv::dnn::Net& net, const TensorRun& run) {
  std::vector<int> dims(run.input_shape.begin(), run.input_shape.end());
  net.setInput(cv::Mat(static_cast<int>(dims.size()), dims.data(), CV_32F, const_cast<float*>(run.input.data())));
  std::vector<cv::Mat> outs;
  net.forward(outs, std::vector<cv::String>(run.output_names.begin(), run.output_names.end()));
  std::vector<std::vector<float>> result;
  for (cv::Mat& m : outs) {
    if (!m.isContinuous()) m = m.clone();
    result.emplace_back(m.ptr<float>(), m.ptr<float>() + m.total());
  }
  return result;
}

}  // namespace

// ---- detector ----------------------------------------------------------------

struct FaceDetector::Impl {
  mutable cv::dnn::Net net;
};

FaceDetector::FaceDetector(const std::string& onnx_path) : impl_(std::make_unique<Impl>()), path_(onnx_path) {
  std::error_code ec;
  if (!fs::is_regular_file(onnx_path, ec))
    throw std::runtime_error(onnx_path + ": face detector not found (pass --detector, or set FACEKEYS_DETECTOR)");
  // The core's check first (model_check.hpp): OpenCV allocates what a file declares before it checks anything.
  const std::vector<std::uint8_t> bytes = read_file_bytes(onnx_path);
  check_face_detector_file(bytes.data(), bytes.size(), onnx_path);
  try {
    impl_->net = cv::dnn::readNetFromONNX(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } catch (const cv::Exception& e) {
    throw std::runtime_error(onnx_path + ": not a face detector OpenCV DNN can load (corrupt ONNX?): " + e.msg);
  }
  if (impl_->net.empty()) throw std::runtime_error(onnx_path + ": OpenCV DNN loaded an empty network");
  // Check the graph once on a blank input: scores [1, P, 2], boxes [1, P, 4].
  try {
    const std::vector<float> blank(static_cast<std::size_t>(3) * config_.input_width * config_.input_height, 0.f);
    impl_->net.setInput(nchw_blob(blank, 1, 3, config_.input_height, config_.input_width));
    std::vector<cv::Mat> outs;
    impl_->net.forward(outs, std::vector<cv::String>{"scores", "boxes"});
    if (outs.size() != 2 || outs[0].total() * 2 != outs[1].total() || outs[0].total() % 2 != 0)
      throw std::runtime_error("outputs scores " + shape_str(outs.at(0)) + " and boxes " + shape_str(outs.at(1)) +
                               " are not [1, P, 2] and [1, P, 4]");
  } catch (const cv::Exception& e) {
    throw std::runtime_error(onnx_path + ": not the UltraFace detector (input [1, 3, 240, 320], outputs scores/boxes): " +
                             e.msg);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(onnx_path + ": not the UltraFace detector: " + e.what());
  }
}

FaceDetector::~FaceDetector() = default;

std::vector<std::vector<float>> FaceDetector::run(const TensorRun& run) const { return forward(impl_->net, run); }

std::vector<FaceDetection> FaceDetector::detect(ViewU8 rgb, const DetectOptions& options) const {
  PhotoJob job(Photo{ImageU8::copy_of(rgb), 0, 0, 0, false, "photo"});
  PhotoOptions opt;
  opt.detect = options;
  job.start(nullptr, opt);
  drive_photo_job(job, *this, nullptr);
  std::vector<FaceDetection> faces;
  for (const PredictedFace& f : job.faces()) faces.push_back({f.box, f.score});
  return faces;
}

// ---- keypoint model ----------------------------------------------------------

struct KeypointModel::Impl {
  mutable cv::dnn::Net net;
};

KeypointModel::KeypointModel(const std::string& dir) : impl_(std::make_unique<Impl>()), dir_(dir) {
  std::error_code ec;
  const fs::path card_path = fs::path(dir) / "model.json";
  if (fs::is_regular_file(dir, ec) && fs::path(dir).extension() == ".safetensors")
    throw std::runtime_error(dir + ": a training checkpoint, not a model folder: make one with `facekeys export " + dir +
                             " -o DIR`, then --model DIR");
  if (!fs::is_directory(dir, ec)) throw std::runtime_error(dir + ": model folder not found");
  if (!fs::is_regular_file(card_path, ec))
    throw std::runtime_error(dir + ": no model.json (an exported model folder from `facekeys export` holds "
                                   "model.onnx + model.json)");
  card_ = read_model_card(card_path.string());
  const fs::path onnx_path = fs::path(dir) / card_.onnx.file;
  if (!fs::is_regular_file(onnx_path, ec))
    throw std::runtime_error(onnx_path.string() + ": missing (named by " + card_path.string() + ")");
  const std::vector<std::uint8_t> bytes = read_file_bytes(onnx_path.string());
  // The card's SHA-256, names, shapes, opset and weight sizes, before OpenCV sees the bytes (model_check.hpp).
  check_keypoint_model_file(card_, bytes.data(), bytes.size(), onnx_path.string());
  try {
    impl_->net = cv::dnn::readNetFromONNX(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  } catch (const cv::Exception& e) {
    throw std::runtime_error(onnx_path.string() + ": not an ONNX graph OpenCV DNN can load (corrupt file?): " + e.msg);
  }
  if (impl_->net.empty()) throw std::runtime_error(onnx_path.string() + ": OpenCV DNN loaded an empty network");
  // The card's input shape must give the card's output shape.
  const int w = card_.input.width, h = card_.input.height;
  cv::Mat out;
  try {
    const std::vector<float> zeros(static_cast<std::size_t>(w) * h, 0.f);
    impl_->net.setInput(nchw_blob(zeros, 1, 1, h, w));
    out = impl_->net.forward();
  } catch (const cv::Exception& e) {
    throw std::runtime_error(onnx_path.string() + ": does not run on the input its card " + card_path.string() +
                             " describes ([1, 1, " + std::to_string(h) + ", " + std::to_string(w) + "]): " + e.msg);
  }
  const std::size_t want = keypoint_output_size(card_);
  if (out.total() != want) {
    std::string promised = "[1, " + std::to_string(2 * card_.num_points) + "]";
    if (card_.output.kind == "heatmaps")
      promised = "[1, " + std::to_string(card_.num_points) + ", " + std::to_string(card_.output.height) + ", " +
                 std::to_string(card_.output.width) + "]";
    throw std::runtime_error(onnx_path.string() + ": outputs " + shape_str(out) + " but its card " +
                             card_path.string() + " promises " + promised + " (" + card_.schema +
                             "): card and model do not match");
  }
}

KeypointModel::~KeypointModel() = default;

std::vector<float> KeypointModel::run(const std::vector<float>& input, int n) const {
  const int w = card_.input.width, h = card_.input.height;
  if (n <= 0 || input.size() != static_cast<std::size_t>(n) * w * h)
    throw std::invalid_argument("KeypointModel::run: input size does not match the card");
  impl_->net.setInput(nchw_blob(input, n, 1, h, w));
  cv::Mat out = impl_->net.forward();
  if (!out.isContinuous()) out = out.clone();
  const std::size_t want = keypoint_output_size(card_) * static_cast<std::size_t>(n);
  if (out.total() != want)
    throw std::runtime_error(dir_ + ": model output has " + std::to_string(out.total()) + " values, expected " +
                             std::to_string(want));
  return std::vector<float>(out.ptr<float>(), out.ptr<float>() + want);
}

std::vector<std::vector<float>> KeypointModel::run(const TensorRun& run) const { return forward(impl_->net, run); }

// ---- the photo job on OpenCV DNN -------------------------------------------------

namespace {

// The one host loop over a job's network calls (a photo job's, or a tracker's
// for one frame): both have next() / output(k) / give().
template <class Job>
void drive_runs(Job& job, const FaceDetector& detector, const KeypointModel* model, JobTimes* times,
                const char* who) {
  auto t = Clock::now();
  while (const TensorRun* run = job.next()) {
    const bool detect = run->network == TensorRun::Network::Detector;
    if (times) times->preprocess += ms_since(t);
    t = Clock::now();
    if (!detect && !model) throw std::logic_error(std::string(who) + ": a keypoint run without a model");
    std::vector<std::vector<float>> outs = detect ? detector.run(*run) : model->run(*run);
    if (times) (detect ? times->detect : times->infer) += ms_since(t);
    t = Clock::now();
    for (std::size_t k = 0; k < outs.size(); ++k) job.output(k) = std::move(outs[k]);
    job.give();
  }
  if (times) times->preprocess += ms_since(t);
}

}  // namespace

void drive_photo_job(PhotoJob& job, const FaceDetector& detector, const KeypointModel* model, JobTimes* times) {
  drive_runs(job, detector, model, times, "drive_photo_job");
}

void drive_tracker_frame(FaceTracker& tracker, const FaceDetector& detector, const KeypointModel* model,
                         JobTimes* times) {
  drive_runs(tracker, detector, model, times, "drive_tracker_frame");
}

// ---- defaults ----------------------------------------------------------------

namespace {

std::string assets_dir() {
  if (const char* e = std::getenv("FACEKEYS_ASSETS_DIR")) return e;
  const std::string src = FACEKEYS_SOURCE_DIR;
  return src.empty() ? std::string("assets") : src + "/assets";
}

}  // namespace

std::string default_detector_path() {
  if (const char* e = std::getenv("FACEKEYS_DETECTOR")) return e;
  std::error_code ec;
  const fs::path a = fs::path(assets_dir()) / "detectors" / "ultraface" / "version-RFB-320.onnx";
  if (fs::is_regular_file(a, ec)) return a.string();
  std::string data = FACEKEYS_DATA_DIR;
  if (const char* e = std::getenv("FACEKEYS_DATA_DIR")) data = e;
  const fs::path d = fs::path(data) / "models" / "ultraface" / "version-RFB-320.onnx";
  if (!data.empty() && fs::is_regular_file(d, ec)) return d.string();
  return a.string();  // reported as missing by FaceDetector
}

// The rule is the core's default_model_name (model_card.hpp), the browser's too:
// assets/models/DEFAULT names the folder; when the file is missing or names a
// folder that is not there, the first folder with a model.json in name order.
std::string default_model_dir() {
  if (const char* e = std::getenv("FACEKEYS_MODEL")) return e;
  std::error_code ec;
  const fs::path models = fs::path(assets_dir()) / "models";
  if (!fs::is_directory(models, ec)) return {};
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(models, ec))
    if (fs::is_regular_file(e.path() / "model.json", ec)) names.push_back(e.path().filename().string());
  const fs::path named = models / "DEFAULT";
  const std::string text = fs::is_regular_file(named, ec) ? read_file_text(named.string()) : std::string();
  const std::string name = default_model_name(text, names);
  if (name.empty()) return {};
  const std::string wanted = default_file_name(text);
  if (!wanted.empty() && wanted != name)
    std::cerr << "facekeys: " << named.string() << " names '" << wanted << "', which is not a model folder there: using '"
              << name << "' (the first in name order)\n";
  return (models / name).string();
}

std::unique_ptr<KeypointModel> load_keypoint_model(const std::string& model_dir, const std::string& command) {
  const std::string dir = model_dir.empty() ? default_model_dir() : model_dir;
  if (dir.empty())
    throw std::runtime_error(command + ": no keypoint model: none given, $FACEKEYS_MODEL unset and none in "
                                       "assets/models/ (make one with `facekeys export`)");
  try {
    return std::make_unique<KeypointModel>(dir);
  } catch (const std::exception& e) {
    const char* env = std::getenv("FACEKEYS_MODEL");
    if (model_dir.empty() && env && dir == env)  // say where a path nobody typed came from
      throw std::runtime_error(std::string(e.what()) + " (from $FACEKEYS_MODEL)");
    throw;
  }
}

// ---- image header sniffing ---------------------------------------------------

ImageHeader sniff_image(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return {};
  const auto end = f.tellg();
  if (end <= 0) return {};
  const auto file_size = static_cast<unsigned long long>(end);
  auto read_at = [&](unsigned long long offset, std::size_t n) {
    std::vector<std::uint8_t> b(static_cast<std::size_t>(std::min<unsigned long long>(n, file_size - offset)));
    f.seekg(static_cast<std::streamoff>(offset));
    f.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()));
    b.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, f.gcount())));
    f.clear();
    return b;
  };
  const unsigned long long tail_at = file_size - std::min<unsigned long long>(file_size, kImageTailBytes);
  const std::vector<std::uint8_t> tail = read_at(tail_at, kImageTailBytes);
  std::vector<std::uint8_t> head = read_at(0, kImageHeaderFirstBytes);
  ImageHeader h = read_image_header(head.data(), head.size(), tail.data(), tail.size(), file_size);
  if (!h.size && h.format == ImageFormat::Jpeg && file_size > head.size()) {  // a large EXIF or ICC segment first
    head = read_at(0, kImageHeaderBytes);
    h = read_image_header(head.data(), head.size(), tail.data(), tail.size(), file_size);
  }
  if (h.needs_whole_file) {  // data after the JPEG's end (a motion photo's video): find the end from the start
    head = read_at(0, static_cast<std::size_t>(file_size));
    h = read_image_header(head.data(), head.size(), tail.data(), tail.size(), file_size);
  }
  return h;
}

// ---- predict -----------------------------------------------------------------

namespace {

ImageU8 load_checked(const std::string& path) {
  const ImageHeader sniff = sniff_image(path);
  if (sniff.size) {
    const std::string problem = image_size_problem(sniff.size->width, sniff.size->height);
    if (!problem.empty()) throw std::runtime_error(path + ": " + problem);
  }
  if (!sniff.complete)  // OpenCV would decode the missing part as grey, without an error
    throw std::runtime_error(path + ": " + truncated_image_message(sniff.format));
  ImageU8 img;
  try {
    img = load_image_rgb(path);
  } catch (const cv::Exception& e) {
    throw std::runtime_error(path + ": cannot decode: " + e.msg);
  }
  if (const std::string problem = image_size_problem(img.width(), img.height()); !problem.empty())
    throw std::runtime_error(path + ": " + problem);
  return img;
}

}  // namespace

int run_predict(const PredictConfig& cfg) {
  if (cfg.images.empty()) throw std::runtime_error("predict: no images given");
  if (!cfg.overlay.empty() && cfg.images.size() != 1)
    throw std::runtime_error("predict: one overlay file for " + std::to_string(cfg.images.size()) +
                             " images (an overlay folder takes several)");
  if (!cfg.overlay.empty())
    if (const std::string why = image_output_problem(cfg.overlay); !why.empty())
      throw std::runtime_error(cfg.overlay + ": " + why);
  const FaceDetector detector(cfg.detector_path.empty() ? default_detector_path() : cfg.detector_path);
  std::unique_ptr<KeypointModel> model;
  if (!cfg.detect_only) model = load_keypoint_model(cfg.model_dir, "predict");
  if (!cfg.overlay_dir.empty()) {
    std::error_code ec;
    fs::create_directories(cfg.overlay_dir, ec);
    if (ec || !fs::is_directory(cfg.overlay_dir))
      throw std::runtime_error(cfg.overlay_dir + ": cannot create the overlay folder" +
                               (ec ? ": " + ec.message() : std::string(" (a file has that name)")));
  }
  std::set<std::string> overlay_names;  // photos with the same name from two folders get x.png and x-2.png

  int failed = 0;
  for (const std::string& path : cfg.images) {
    try {
      const auto t_total = Clock::now();
      const auto t = Clock::now();
      PhotoJob job(Photo{load_checked(path), 0, 0, 0, false, path});  // imread applied the EXIF orientation
      JobTimes times;
      times.decode = ms_since(t);
      PhotoOptions options;
      options.detect = cfg.detect;
      job.start(model ? &model->card() : nullptr, options);
      drive_photo_job(job, detector, model.get(), &times);

      Json j = job.result_json();

      if (!cfg.overlay.empty() || !cfg.overlay_dir.empty()) {
        std::string out = cfg.overlay;
        if (out.empty()) {
          const std::string stem = fs::path(path).stem().string();
          std::string name = stem + ".png";
          for (int n = 2; !overlay_names.insert(name).second; ++n) name = stem + "-" + std::to_string(n) + ".png";
          out = (fs::path(cfg.overlay_dir) / name).string();
        }
        ImageU8 drawn = ImageU8::copy_of(job.pixels());
        draw_overlay(drawn.view(), job.overlay(OverlayStyle{}));
        save_image(out, drawn.view());
        j["overlay"] = out;
      }
      Json tm = Json::object();
      tm["decode"] = round_to(times.decode, 0.01);
      tm["detect"] = round_to(times.detect, 0.01);
      tm["preprocess"] = round_to(times.preprocess, 0.01);
      tm["infer"] = round_to(times.infer, 0.01);
      tm["total"] = round_to(ms_since(t_total), 0.01);
      j["timing_ms"] = tm;
      std::cout << j.dump() << std::endl;
    } catch (const std::exception& e) {
      ++failed;
      Json err = Json::object();
      err["image"] = path;
      err["error"] = e.what();
      std::cerr << err.dump() << std::endl;
    }
  }
  return failed;
}

// ---- eval on a pack ------------------------------------------------------------

OnnxSplitPredictions predict_pack_split_onnx(const std::string& model_dir, const Pack& pack, Split split, int batch) {
  const KeypointModel model(model_dir);
  const ModelCard& card = model.card();
  OnnxSplitPredictions r;
  r.card = card;
  if (pack.channels != 1) throw std::runtime_error("eval: pack has " + std::to_string(pack.channels) + " channels, need 1");
  const std::vector<int> points = pack_points_for_model(schema_by_name(pack.schema), card.schema);
  if (points.empty())
    throw std::runtime_error(model_dir + ": model predicts " + card.schema + " points, the pack holds " + pack.schema);
  const int gt_point = card.schema != pack.schema ? points.front() : -1;  // nose_tip card on a full-shape pack
  if (card_is_whole_image(card)) {
    const double pack_aspect = static_cast<double>(pack.width) / pack.height;
    if (std::abs(pack_aspect - card.crop.aspect) > 0.02 * card.crop.aspect)
      std::fprintf(stderr, "eval: warning: pack images are %dx%d, the model expects aspect %.3f\n", pack.width,
                   pack.height, card.crop.aspect);
  }
  const int K = card.num_points, PK = pack.num_points;
  std::vector<std::int64_t> rows;
  for (std::size_t i = 0; i < pack.size(); ++i)
    if (pack.split[i] == static_cast<std::uint8_t>(split)) rows.push_back(static_cast<std::int64_t>(i));
  const std::size_t per_out = keypoint_output_size(card);
  const bool flip = card_wants_flip_test(card);  // as photos: each image and its mirror, averaged
  const std::size_t copies = flip ? 2 : 1;
  for (std::size_t i0 = 0; i0 < rows.size(); i0 += static_cast<std::size_t>(batch)) {
    const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(batch), rows.size() - i0);
    std::vector<float> input;
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint8_t* px = pack.pixels.data() + static_cast<std::size_t>(rows[i0 + j]) * pack.image_bytes();
      const ViewU8 view(px, pack.width, pack.height, 1);
      // The pack image is the model's framing: the whole of it is the crop.
      const Box whole{-0.5f, -0.5f, static_cast<float>(pack.width), static_cast<float>(pack.height)};
      append_keypoint_input(input, keypoint_model_input(view, card, whole), card, flip);
    }
    std::vector<float> out = model.run(input, static_cast<int>(n * copies));
    for (std::size_t j = 0; j < n; ++j) {
      const std::vector<float> uv =
          keypoint_output_to_normalized(card, keypoint_batch_output(out, j, card, flip), per_out);
      r.pred_norm.insert(r.pred_norm.end(), uv.begin(), uv.end());
      const float* gt = pack.points.data() + static_cast<std::size_t>(rows[i0 + j]) * PK * 2;
      if (gt_point >= 0) {
        r.gt_norm.push_back(gt[2 * gt_point]);
        r.gt_norm.push_back(gt[2 * gt_point + 1]);
      } else {
        r.gt_norm.insert(r.gt_norm.end(), gt, gt + 2 * K);
      }
      r.pack_index.push_back(rows[i0 + j]);
    }
  }
  return r;
}

}  // namespace facekeys
