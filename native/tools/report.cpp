#include "tools/report.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <optional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>

#include "facekeys/file_io.hpp"
#include "facekeys/geometry.hpp"
#include "facekeys/json.hpp"
#include "facekeys/metrics.hpp"
#include "facekeys/pack.hpp"
#include "facekeys/draw.hpp"
#include "facekeys/overlay.hpp"
#include "facekeys/safetensors.hpp"
#include "facekeys/schema.hpp"

namespace facekeys {
namespace {

namespace fs = std::filesystem;

const cv::Scalar kTrainColor(200, 120, 30), kValColor(40, 40, 220);

void write_png(const fs::path& path, const cv::Mat& img) {
  std::vector<std::uint8_t> bytes;
  if (!cv::imencode(".png", img, bytes)) throw std::runtime_error(path.string() + ": PNG encoding failed");
  write_file_atomic(path.string(), bytes);
}

struct Curve {
  std::vector<double> epoch, train, val;
};

Curve read_metrics(const fs::path& path) {
  Curve c;
  std::istringstream lines(read_file_text(path.string()));
  int line_no = 0;
  for (std::string line; std::getline(lines, line);) {
    ++line_no;
    if (line.empty()) continue;
    Json row = Json::parse(line, path.string() + ":" + std::to_string(line_no));
    c.epoch.push_back(row.at("epoch").as_number());
    c.train.push_back(row.at("train_loss").as_number());
    c.val.push_back(row.at("val_loss").as_number());
  }
  if (c.epoch.empty()) throw std::runtime_error(path.string() + ": no epochs recorded");
  return c;
}

// Train and val loss per epoch on a log scale, drawn with OpenCV primitives.
cv::Mat plot_losses(const Curve& c, const std::string& title) {
  const int W = 720, H = 440, left = 80, right = 20, top = 40, bottom = 50;
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  double lo = INFINITY, hi = 0;
  for (const auto* v : {&c.train, &c.val})
    for (double x : *v)
      if (x > 0 && std::isfinite(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!(hi > 0)) lo = 1e-6, hi = 1;
  double lg_lo = std::floor(std::log10(lo)), lg_hi = std::ceil(std::log10(hi));
  if (lg_hi <= lg_lo) lg_hi = lg_lo + 1;
  const double e0 = c.epoch.front(), e1 = std::max(c.epoch.back(), e0 + 1);
  auto px = [&](double e) { return left + (e - e0) / (e1 - e0) * (W - left - right); };
  auto py = [&](double v) {
    double lg = std::log10(std::max(v, 1e-30));
    return top + (lg_hi - lg) / (lg_hi - lg_lo) * (H - top - bottom);
  };
  for (double d = lg_lo; d <= lg_hi; d += 1) {
    int y = static_cast<int>(py(std::pow(10, d)));
    cv::line(img, {left, y}, {W - right, y}, cv::Scalar(225, 225, 225));
    char buf[16];
    std::snprintf(buf, sizeof buf, "1e%d", static_cast<int>(d));
    cv::putText(img, buf, {8, y + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(60, 60, 60), 1, cv::LINE_AA);
  }
  cv::rectangle(img, {left, top}, {W - right, H - bottom}, cv::Scalar(90, 90, 90));
  for (int i = 0; i <= 4; ++i) {
    double e = e0 + (e1 - e0) * i / 4;
    int x = static_cast<int>(px(e));
    cv::putText(img, std::to_string(static_cast<int>(std::round(e))), {x - 8, H - bottom + 20},
                cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(60, 60, 60), 1, cv::LINE_AA);
  }
  cv::putText(img, "epoch", {W / 2 - 20, H - 10}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::putText(img, title, {left, 25}, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  auto draw = [&](const std::vector<double>& v, const cv::Scalar& color) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      cv::Point p(static_cast<int>(px(c.epoch[i])), static_cast<int>(py(v[i])));
      if (i > 0) {
        cv::Point q(static_cast<int>(px(c.epoch[i - 1])), static_cast<int>(py(v[i - 1])));
        cv::line(img, q, p, color, 2, cv::LINE_AA);
      } else {
        cv::circle(img, p, 2, color, -1, cv::LINE_AA);
      }
    }
  };
  draw(c.train, kTrainColor);
  draw(c.val, kValColor);
  cv::line(img, {W - 170, top + 18}, {W - 145, top + 18}, kTrainColor, 2);
  cv::putText(img, "train loss", {W - 138, top + 23}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::line(img, {W - 170, top + 40}, {W - 145, top + 40}, kValColor, 2);
  cv::putText(img, "val loss", {W - 138, top + 45}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return img;
}

// A pack image, enlarged for visibility, as BGR.
// A pack image as RGB, enlarged `scale` times (drawn on with the core's overlay, then write_rgb_png).
cv::Mat pack_image(const Pack& pack, std::size_t row, int scale) {
  cv::Mat img(pack.height, pack.width, pack.channels == 1 ? CV_8UC1 : CV_8UC3,
              const_cast<std::uint8_t*>(&pack.pixels[row * pack.image_bytes()]));
  cv::Mat rgb, big;
  if (pack.channels == 1)
    cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB);
  else
    rgb = img;
  cv::resize(rgb, big, {}, scale, scale, cv::INTER_LINEAR);
  return big;
}

void write_rgb_png(const fs::path& path, const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  write_png(path, bgr);
}

// The core's rasteriser (draw.hpp) on an RGB image of OpenCV's.
void draw_on(cv::Mat& rgb, const Overlay& o) {
  draw_overlay(ImageView<std::uint8_t>(rgb.ptr<std::uint8_t>(), rgb.cols, rgb.rows, 3,
                                       static_cast<std::ptrdiff_t>(rgb.step1())),
               o);
}

// Draws points (pack pixel coordinates) on an enlarged pack image in the look of
// every overlay (overlay.hpp): points in `color`, and the schema's lines.
void draw_points(cv::Mat& rgb, const Pack& pack, const std::vector<Point2f>& pts, const LandmarkSchema& schema,
                 Color color, bool lines) {
  Overlay o;
  o.width = pack.width;
  o.height = pack.height;
  OverlayStyle style;
  style.lines = lines;
  add_landmarks(o, pts, &schema, style, color);
  draw_on(rgb, o);
}

std::vector<Point2f> pack_points(const Pack& pack, std::size_t row) {
  std::vector<Point2f> pts;
  for (int k = 0; k < pack.num_points; ++k) {
    const float* uv = &pack.points[(row * pack.num_points + k) * 2];
    pts.push_back(from_normalized(Point2f{uv[0], uv[1]}, pack.width, pack.height));
  }
  return pts;
}

// Original-pixel points from a predictions file, mapped into the pack image.
std::vector<Point2f> to_pack_pixels(const Pack& pack, std::size_t row, const Json& pts) {
  const double* m = &pack.image_to_pack[row * 6];
  const Affine2D to_pack{m[0], m[1], m[2], m[3], m[4], m[5]};
  std::vector<Point2f> out;
  for (const auto& p : pts.as_array())
    out.push_back(to_pack.apply(Point2f{static_cast<float>(p.as_array().at(0).as_number()),
                                        static_cast<float>(p.as_array().at(1).as_number())}));
  return out;
}

// conv weights [out, in, k, k]: the first input channel of each filter, tiled.
cv::Mat filter_grid(const TensorRecord& w) {
  if (w.shape.size() != 4 || w.dtype != DType::F32) throw std::runtime_error(w.name + ": not a conv weight");
  const int out = static_cast<int>(w.shape[0]), in = static_cast<int>(w.shape[1]), k = static_cast<int>(w.shape[2]);
  const float* data = reinterpret_cast<const float*>(w.bytes.data());
  const int cols = std::min(16, out), rows = (out + cols - 1) / cols;
  const int cell = std::max(4, 64 / k) * k, pad = 4;
  cv::Mat grid(rows * (cell + pad) + pad, cols * (cell + pad) + pad, CV_8UC1, cv::Scalar(255));
  for (int f = 0; f < out; ++f) {
    const float* kern = data + static_cast<std::ptrdiff_t>(f) * in * k * k;
    float lo = *std::min_element(kern, kern + k * k), hi = *std::max_element(kern, kern + k * k);
    cv::Mat tile(k, k, CV_8UC1);
    for (int i = 0; i < k * k; ++i)
      tile.data[i] = static_cast<std::uint8_t>(hi > lo ? std::lround((kern[i] - lo) / (hi - lo) * 255) : 128);
    cv::Mat big;
    cv::resize(tile, big, {cell, cell}, 0, 0, cv::INTER_NEAREST);
    big.copyTo(grid(cv::Rect(pad + (f % cols) * (cell + pad), pad + (f / cols) * (cell + pad), cell, cell)));
  }
  return grid;
}

// Cumulative error distribution of per-image NMEs, 0..max_error.
cv::Mat plot_ced(const std::vector<double>& nmes, const std::string& title) {
  const double max_error = 0.2;
  const CedCurve c = ced_curve(nmes, max_error, 400);
  const int W = 720, H = 440, left = 70, right = 20, top = 40, bottom = 50;
  cv::Mat img(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
  auto px = [&](double e) { return static_cast<int>(left + e / max_error * (W - left - right)); };
  auto py = [&](double f) { return static_cast<int>(top + (1.0 - f) * (H - top - bottom)); };
  char buf[64];
  for (int i = 0; i <= 4; ++i) {
    const double f = i / 4.0, e = max_error * i / 4.0;
    cv::line(img, {left, py(f)}, {W - right, py(f)}, cv::Scalar(225, 225, 225));
    std::snprintf(buf, sizeof buf, "%.2f", f);
    cv::putText(img, buf, {20, py(f) + 5}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(60, 60, 60), 1, cv::LINE_AA);
    std::snprintf(buf, sizeof buf, "%.2f", e);
    cv::putText(img, buf, {px(e) - 14, H - bottom + 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(60, 60, 60), 1,
                cv::LINE_AA);
  }
  cv::line(img, {px(0.10), top}, {px(0.10), H - bottom}, cv::Scalar(150, 150, 150), 1);
  cv::rectangle(img, {left, top}, {W - right, H - bottom}, cv::Scalar(90, 90, 90));
  for (std::size_t i = 1; i < c.thresholds.size(); ++i)
    cv::line(img, {px(c.thresholds[i - 1]), py(c.fractions[i - 1])}, {px(c.thresholds[i]), py(c.fractions[i])},
             kValColor, 2, cv::LINE_AA);
  cv::putText(img, "NME (inter-ocular)", {W / 2 - 70, H - 10}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1,
              cv::LINE_AA);
  cv::putText(img, title, {10, 25}, cv::FONT_HERSHEY_SIMPLEX, 0.48, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return img;
}

// Softmax maps of chosen points over a pack image: the heatmap view of every
// overlay (overlay.hpp's heatmap_view_of_probabilities), over the whole image.
cv::Mat heatmap_overlay(const Pack& pack, std::size_t row, const float* maps, int K, int h, int w,
                        const std::vector<int>& points, int scale) {
  cv::Mat img = pack_image(pack, row, scale);
  Overlay o;
  o.width = pack.width;
  o.height = pack.height;
  OverlayItem view;
  view.kind = OverlayItem::Kind::Image;
  view.color = Color{255, 255, 255, 200};
  try {
    view.image = heatmap_view_of_probabilities(maps, K, h, w, points);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("heatmap points to draw: ") + e.what());
  }
  // Maps and image cover the same extent.
  view.area = Box{-0.5f, -0.5f, static_cast<float>(pack.width), static_cast<float>(pack.height)};
  o.items.push_back(std::move(view));
  draw_on(img, o);
  return img;
}

// The files write_report makes, by name: those left from an earlier report
// that this one did not write again are removed, so the folder shows what
// report.md shows.
bool is_report_file(const std::string& name) {
  if (name == "loss.png" || name == "ced.png" || name == "report.md") return true;
  for (const char* prefix : {"gt_", "pred_best_", "pred_median_", "pred_worst_", "heatmap_", "filters_conv"})
    if (name.rfind(prefix, 0) == 0 && name.size() > 4 && name.compare(name.size() - 4, 4, ".png") == 0) return true;
  return false;
}

// The architecture the run folder trained (its config.json), or "" when unknown.
std::string run_model(const fs::path& dir) {
  const fs::path config = dir / "config.json";
  if (!fs::exists(config)) return "";
  const Json j = Json::parse(read_file_text(config.string()), config.string());
  const Json* m = j.find("model");
  return m && m->is_string() ? m->as_string() : "";
}

}  // namespace

// Every input is read and checked against the others before the first file is
// written: a report made of mismatched files is refused, not drawn.
std::vector<std::string> write_report(const ReportConfig& cfg) {
  const fs::path dir(cfg.run_dir);
  const fs::path metrics = dir / "metrics.jsonl";
  if (cfg.overlays < 1) throw std::invalid_argument("the number of images per overlay group must be at least 1");
  if (cfg.pack_path.empty() && (!cfg.predictions_path.empty() || !cfg.heatmaps_path.empty()))
    throw std::invalid_argument((cfg.predictions_path.empty() ? cfg.heatmaps_path : cfg.predictions_path) +
                                ": drawing these needs the pack they were made from (its images are drawn), and "
                                "none was given");
  if (!fs::exists(metrics) && cfg.pack_path.empty() && cfg.checkpoint_path.empty())
    throw std::runtime_error(cfg.run_dir + ": no metrics.jsonl, and no pack or checkpoint given: nothing to report "
                                           "(is this a run folder from `facekeys train`?)");

  std::optional<Curve> curve;
  if (fs::exists(metrics)) curve = read_metrics(metrics);
  std::optional<Pack> pack;
  if (!cfg.pack_path.empty()) pack = read_pack(cfg.pack_path);
  const std::string other_pack = ": give the pack they were made from";

  Json preds;
  if (!cfg.predictions_path.empty()) {
    preds = Json::parse(read_file_text(cfg.predictions_path), cfg.predictions_path);
    const Json* listed = preds.find("images");
    if (!listed || !listed->is_array() || !preds.contains("schema"))
      throw std::runtime_error(cfg.predictions_path + ": not a file from `facekeys eval --predictions`");
    if (pack_points_for_model(schema_by_name(pack->schema), preds.at("schema").as_string()).empty())
      throw std::runtime_error(cfg.predictions_path + ": predictions of " + preds.at("schema").as_string() +
                               " points, but " + cfg.pack_path + " holds " + pack->schema + other_pack);
    // Each image must be the pack row it names: predictions of another pack of the same schema are caught here.
    for (const auto& im : listed->as_array()) {
      const std::int64_t row = im.at("pack_index").as_int();
      if (row < 0 || static_cast<std::size_t>(row) >= pack->size() ||
          pack->names[static_cast<std::size_t>(row)] != im.at("name").as_string())
        throw std::runtime_error(cfg.predictions_path + ": image '" + im.at("name").as_string() + "' (pack_index " +
                                 std::to_string(row) + ") is not that row of " + cfg.pack_path + other_pack);
    }
  }

  std::optional<SafeTensorsFile> heatmaps;
  if (!cfg.heatmaps_path.empty()) {
    heatmaps = read_safetensors(cfg.heatmaps_path);
    const SafeTensorsFile& st = *heatmaps;
    if (st.meta("format", cfg.heatmaps_path) != "facekeys-heatmaps")
      throw std::runtime_error(cfg.heatmaps_path + ": not a file from `facekeys eval --heatmaps`");
    const TensorRecord& maps = st.get("heatmaps", cfg.heatmaps_path);
    const TensorRecord& rows = st.get("pack_index", cfg.heatmaps_path);
    if (maps.dtype != DType::F32 || maps.shape.size() != 4 || rows.dtype != DType::I64 ||
        rows.numel() != maps.shape[0])
      throw std::runtime_error(cfg.heatmaps_path + ": unexpected tensor shapes or types");
    if (st.meta("schema", cfg.heatmaps_path) != pack->schema || maps.shape[1] != pack->num_points)
      throw std::runtime_error(cfg.heatmaps_path + ": maps of " + st.meta("schema", cfg.heatmaps_path) +
                               " points, but " + cfg.pack_path + " holds " + pack->schema + other_pack);
    for (int64_t i = 0; i < maps.shape[0]; ++i) {
      std::int64_t row = 0;
      std::memcpy(&row, rows.bytes.data() + i * sizeof(std::int64_t), sizeof row);
      if (row < 0 || static_cast<std::size_t>(row) >= pack->size())
        throw std::runtime_error(cfg.heatmaps_path + ": pack_index out of range for " + cfg.pack_path);
    }
  }

  std::optional<SafeTensorsFile> checkpoint;
  if (!cfg.checkpoint_path.empty()) {
    checkpoint = read_safetensors(cfg.checkpoint_path);
    const auto arch = checkpoint->metadata.find("arch");
    const std::string trained = run_model(dir);
    if (!trained.empty() && arch != checkpoint->metadata.end() && arch->second != trained)
      throw std::runtime_error(cfg.checkpoint_path + ": a " + arch->second + " checkpoint, but " + cfg.run_dir +
                               " trained " + trained + ": give one of this run's checkpoints");
  }

  std::vector<std::string> written;
  std::ostringstream md;
  md << "# Report for `" << dir.filename().string() << "`\n\n";

  if (curve) {
    const Curve& c = *curve;
    write_png(dir / "loss.png", plot_losses(c, dir.filename().string() + ": loss (log scale; the run's --loss, KL for heatmaps)"));
    written.push_back("loss.png");
    md << "## Loss\n\nFinal train loss " << c.train.back() << ", val loss " << c.val.back() << " after "
       << c.epoch.back() << " epochs.\n\n<img src=\"loss.png\" width=\"600\"/>\n\n";
  }

  if (pack) {
    const LandmarkSchema& schema = schema_by_name(pack->schema);
    const int scale = pack->width < 400 ? 2 : 1;
    md << "## Ground truth\n\n";
    for (int i = 0; i < cfg.overlays && i < static_cast<int>(pack->size()); ++i) {
      const std::size_t row = static_cast<std::size_t>(i) * std::max<std::size_t>(1, pack->size() / cfg.overlays);
      cv::Mat img = pack_image(*pack, row, scale);
      draw_points(img, *pack, pack_points(*pack, row), schema, OverlayStyle{}.truth, true);
      const std::string name = "gt_" + std::to_string(i) + ".png";
      write_rgb_png(dir / name, img);
      written.push_back(name);
      md << "<img src=\"" << name << "\" width=\"360\" title=\"" << pack->names[row] << "\"/>\n";
    }
    md << "\n";

    if (!cfg.predictions_path.empty()) {
      const auto& images = preds.at("images").as_array();
      // Rank by NME where the predictions carry it (iBUG), else by MSE.
      const bool by_nme = !images.empty() && images.front().contains("nme");
      const char* key = by_nme ? "nme" : "mse";
      std::vector<std::size_t> order(images.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return images[a].at(key).as_number() < images[b].at(key).as_number();
      });
      if (by_nme) {
        std::vector<double> nmes;
        for (const auto& im : images) nmes.push_back(im.at("nme").as_number());
        char title[160];
        std::snprintf(title, sizeof title, "CED %s/%s, %zu images: NME %.4f, FR@0.10 %.3f, AUC@0.10 %.3f",
                      preds.at("model").as_string().c_str(), preds.at("split").as_string().c_str(), nmes.size(),
                      std::accumulate(nmes.begin(), nmes.end(), 0.0) / nmes.size(), failure_rate(nmes, 0.10),
                      auc(nmes, 0.10));
        write_png(dir / "ced.png", plot_ced(nmes, title));
        written.push_back("ced.png");
        md << "## Cumulative error distribution\n\n" << title << " (grey line: 0.10).\n\n<img src=\"ced.png\" width=\"600\"/>\n\n";
      }
      const LandmarkSchema& pred_schema = schema_by_name(preds.at("schema").as_string());
      md << "## Predictions (" << preds.at("split").as_string()
         << "): blue points = ground truth, green points and red lines = prediction, ranked by " << key << "\n\n";
      const int n_over = std::min<int>(cfg.overlays, static_cast<int>(order.size()));
      for (const char* which : {"best", "median", "worst"}) {
        md << "**" << which << "**\n\n";
        for (int i = 0; i < n_over; ++i) {
          const std::string w(which);
          const std::size_t pos = w == "best" ? i
                                  : w == "worst" ? order.size() - 1 - i
                                                 : std::min(order.size() - 1, order.size() / 2 - n_over / 2 + i);
          const Json& im = images[order[pos]];
          const auto row = static_cast<std::size_t>(im.at("pack_index").as_int());  // checked above
          cv::Mat img = pack_image(*pack, row, scale);
          draw_points(img, *pack, to_pack_pixels(*pack, row, im.at("gt")), pred_schema, OverlayStyle{}.truth, false);
          draw_points(img, *pack, to_pack_pixels(*pack, row, im.at("pred")), pred_schema, OverlayStyle{}.point, true);
          const std::string name = std::string("pred_") + which + "_" + std::to_string(i) + ".png";
          write_rgb_png(dir / name, img);
          written.push_back(name);
          md << "<img src=\"" << name << "\" width=\"360\" title=\"" << im.at("name").as_string() << " " << key << " "
             << im.at(key).as_number() << "\"/>\n";
        }
        md << "\n";
      }
    }

    if (heatmaps) {
      const SafeTensorsFile& st = *heatmaps;
      const TensorRecord& maps = st.get("heatmaps", cfg.heatmaps_path);
      const TensorRecord& rows = st.get("pack_index", cfg.heatmaps_path);
      const int K = static_cast<int>(maps.shape[1]), h = static_cast<int>(maps.shape[2]), w = static_cast<int>(maps.shape[3]);
      std::vector<std::string> which;
      std::stringstream ws(st.meta("which", cfg.heatmaps_path));
      for (std::string item; std::getline(ws, item, ',');) which.push_back(item);
      md << "## Heatmaps (softmax of each map, scaled to its peak; points";
      for (int k : cfg.heatmap_points) md << " " << k;
      md << ")\n\n";
      for (int64_t i = 0; i < maps.shape[0]; ++i) {
        std::int64_t row = 0;  // checked above
        std::memcpy(&row, rows.bytes.data() + i * sizeof(std::int64_t), sizeof row);
        const float* data = reinterpret_cast<const float*>(maps.bytes.data()) + i * K * h * w;
        cv::Mat img = heatmap_overlay(*pack, static_cast<std::size_t>(row), data, K, h, w, cfg.heatmap_points, scale);
        std::string label = i < static_cast<int64_t>(which.size()) ? which[i] : std::to_string(i);
        // The label comes from the file: a file name part of letters, digits, '-' and '_' only, so
        // no metadata can write outside the report folder.
        for (char& c : label)
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
        if (label.empty()) label = std::to_string(i);
        const std::string name = "heatmap_" + label + ".png";
        write_rgb_png(dir / name, img);
        written.push_back(name);
        md << "<img src=\"" << name << "\" width=\"360\" title=\"" << label << ": " << pack->names[row] << "\"/>\n";
      }
      md << "\n";
    }
  }

  if (checkpoint) {
    md << "## Learned filters (first input channel)\n\n";
    for (const char* layer : {"conv1", "conv2", "conv3"}) {
      const TensorRecord* w = checkpoint->find(std::string(layer) + ".weight");
      if (!w) continue;
      const std::string name = std::string("filters_") + layer + ".png";
      write_png(dir / name, filter_grid(*w));
      written.push_back(name);
      md << "`" << layer << "`\n\n<img src=\"" << name << "\" width=\"600\"/>\n\n";
    }
  }
  write_file_atomic((dir / "report.md").string(), md.str());
  written.push_back("report.md");
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && is_report_file(name) &&
        std::find(written.begin(), written.end(), name) == written.end())
      fs::remove(entry.path());
  }
  return written;
}

}  // namespace facekeys
