// make_test_video: a 640x480, 30 fps test video of one face with known points,
// for `facekeys track` (tests/video) and the page's camera (tests/web, through
// Chromium's fake camera). Issue 22.
//
//   make_test_video OUT.y4m OUT_truth.jsonl [--photo PATH.png]
//
// One 300-W LFPW test photo (default: FACEKEYS_DATA_DIR/300w/lfpw/testset/
// image_0003.png, a frontal face; its .pts beside it) is moved by a known
// affine map per frame: the face's point box scaled to 170 px and centred, then
//   still   45 frames  no motion (pixel noise only: the jitter measurement)
//   pan     60 frames  80 px left-right, 30 px up-down (a sine period)
//   zoom    45 frames  scale 1 +- 0.3
//   rotate  45 frames  in-plane rotation +- 20 degrees
//   leave   20 frames  to the right until the face is wholly out of the frame
//   out     10 frames  no face
//   return  40 frames  back to the centre
//   back    20 frames  still again
// Every frame gets its own Gaussian pixel noise (sigma 3 levels, fixed seeds)
// so that frames of the still stretch differ as a camera's do. The outside of
// the photo is grey (no mirrored faces).
//
// Outputs:
//   OUT.y4m         YUV4MPEG2, C420jpeg (4:2:0, chroma centred), BT.601
//                   limited range (what FFmpeg, so OpenCV's VideoCapture, and
//                   Chromium's fake camera assume for 8-bit 4:2:0)
//   OUT_truth.jsonl one line per frame: {"frame", "source_frame" (the 30 fps
//                   video's), "t_ms", "segment", "in_frame",
//                   "points": [[x, y] x 68] | null, "affine": [a, b, c, d, e, f]}
//                   points in frame pixels (pixel centres at integers,
//                   docs/CONVENTIONS.md); in_frame: all 68 inside the frame;
//                   points null when none is; affine maps photo pixels to frame
//                   pixels.
// Both are written to a temporary name and renamed when complete. Exit status
// 1 with a message naming the file on any error.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "facekeys/json.hpp"
#include "facekeys/pts.hpp"

#ifndef FACEKEYS_DATA_DIR
#define FACEKEYS_DATA_DIR ""
#endif

namespace {

namespace fs = std::filesystem;
using facekeys::Json;
using facekeys::Point2f;

constexpr int kWidth = 640, kHeight = 480, kFps = 30;
constexpr double kFaceSide = 170;  // the face's point box, longer side, in frame pixels
constexpr double kNoiseSigma = 3;
constexpr double kPi = 3.14159265358979323846;

struct Segment {
  const char* name;
  int frames;
};
const Segment kSegments[] = {{"still", 45},  {"pan", 60}, {"zoom", 45}, {"rotate", 45},
                             {"leave", 20},  {"out", 10}, {"return", 40}, {"back", 20}};
constexpr double kLeaveDx = 560;  // far enough for the whole face (and its crop) to be out

// The face's motion at frame k of a segment of n frames: offset of its centre,
// scale, rotation (degrees, clockwise on screen).
struct Motion {
  double dx = 0, dy = 0, scale = 1, degrees = 0;
};

Motion motion(const std::string& seg, int k, int n) {
  Motion m;
  const double phase = 2 * kPi * k / n;
  if (seg == "pan") {
    m.dx = 80 * std::sin(phase);
    m.dy = 30 * std::sin(phase);
  } else if (seg == "zoom") {
    m.scale = 1 + 0.3 * std::sin(phase);
  } else if (seg == "rotate") {
    m.degrees = 20 * std::sin(phase);
  } else if (seg == "leave") {
    m.dx = kLeaveDx * (1 - std::cos(kPi * (k + 1) / n)) / 2;  // eased: slow, fast, slow
  } else if (seg == "out") {
    m.dx = kLeaveDx;
  } else if (seg == "return") {
    m.dx = kLeaveDx * (1 + std::cos(kPi * (k + 1) / n)) / 2;
  }
  return m;
}

std::string arg_problem_usage() {
  return "usage: make_test_video OUT.y4m OUT_truth.jsonl [--photo PATH.png] [--every N]\n"
         "  --every N: every Nth frame only, at 30/N fps (a host that tracks fewer frames)\n"
         "  (the default photo: $FACEKEYS_DATA_DIR/300w/lfpw/testset/image_0003.png, its .pts beside it)";
}

std::string default_photo() {
  std::string data = FACEKEYS_DATA_DIR;
  if (const char* e = std::getenv("FACEKEYS_DATA_DIR")) data = e;
  return (fs::path(data) / "300w/lfpw/testset/image_0003.png").lexically_normal().string();
}

double round3(double v) { return std::round(v * 1000) / 1000; }

// BGR -> Y, U, V planes (4:2:0, each chroma sample the mean of its 2x2 block:
// centred siting, C420jpeg), BT.601 limited range.
void bgr_to_i420(const cv::Mat& bgr, std::vector<unsigned char>& out) {
  const int w = bgr.cols, h = bgr.rows;
  out.resize(static_cast<std::size_t>(w) * h * 3 / 2);
  unsigned char* Y = out.data();
  unsigned char* U = Y + static_cast<std::size_t>(w) * h;
  unsigned char* V = U + static_cast<std::size_t>(w / 2) * (h / 2);
  auto clamp8 = [](double v) { return static_cast<unsigned char>(std::lround(std::min(255.0, std::max(0.0, v)))); };
  for (int y = 0; y < h; ++y) {
    const cv::Vec3b* row = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      const double b = row[x][0], g = row[x][1], r = row[x][2];
      Y[static_cast<std::size_t>(y) * w + x] = clamp8(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
    }
  }
  for (int y = 0; y < h / 2; ++y)
    for (int x = 0; x < w / 2; ++x) {
      double r = 0, g = 0, b = 0;
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const cv::Vec3b p = bgr.at<cv::Vec3b>(2 * y + dy, 2 * x + dx);
          b += p[0];
          g += p[1];
          r += p[2];
        }
      r /= 4;
      g /= 4;
      b /= 4;
      U[static_cast<std::size_t>(y) * (w / 2) + x] = clamp8(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255);
      V[static_cast<std::size_t>(y) * (w / 2) + x] = clamp8(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255);
    }
}

int run(int argc, char** argv) {
  std::vector<std::string> pos;
  std::string photo = default_photo();
  int every = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--photo" && i + 1 < argc) {
      photo = argv[++i];
    } else if (a == "--every" && i + 1 < argc) {
      every = std::atoi(argv[++i]);
      if (every < 1 || every > 30) throw std::runtime_error("--every: 1 to 30 frames");
    } else if (a == "-h" || a == "--help") {
      std::printf("%s\n", arg_problem_usage().c_str());
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      throw std::runtime_error("unknown option " + a + "\n" + arg_problem_usage());
    } else {
      pos.push_back(a);
    }
  }
  if (pos.size() != 2) throw std::runtime_error(arg_problem_usage());
  const std::string out_video = pos[0], out_truth = pos[1];

  std::error_code ec;
  if (!fs::is_regular_file(photo, ec)) throw std::runtime_error(photo + ": photo not found");
  const std::string pts_path = (fs::path(photo).replace_extension(".pts")).string();
  if (!fs::is_regular_file(pts_path, ec)) throw std::runtime_error(pts_path + ": the photo's points not found");
  const cv::Mat img = cv::imread(photo, cv::IMREAD_COLOR);
  if (img.empty()) throw std::runtime_error(photo + ": cannot decode");
  const std::vector<Point2f> pts = facekeys::read_pts(pts_path, 68);

  // The face's point box: its centre goes to the frame's centre, its longer side to kFaceSide.
  double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
  for (const Point2f& p : pts) {
    x0 = std::min<double>(x0, p.x);
    x1 = std::max<double>(x1, p.x);
    y0 = std::min<double>(y0, p.y);
    y1 = std::max<double>(y1, p.y);
  }
  const double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, base = kFaceSide / std::max(x1 - x0, y1 - y0);
  const double fx = (kWidth - 1) / 2.0, fy = (kHeight - 1) / 2.0;

  const std::string tmp_video = out_video + ".tmp", tmp_truth = out_truth + ".tmp";
  struct RemoveOnError {  // no half-written file stays behind
    std::vector<std::string> paths;
    ~RemoveOnError() {
      std::error_code ignored;
      for (const auto& p : paths) fs::remove(p, ignored);
    }
  } cleanup{{tmp_video, tmp_truth}};
  std::ofstream video(tmp_video, std::ios::binary | std::ios::trunc);
  if (!video) throw std::runtime_error(out_video + ": cannot write");
  std::ofstream truth(tmp_truth, std::ios::trunc);
  if (!truth) throw std::runtime_error(out_truth + ": cannot write");
  video << "YUV4MPEG2 W" << kWidth << " H" << kHeight << " F" << kFps << ":" << every << " Ip A1:1 C420jpeg\n";

  std::vector<unsigned char> planes;
  cv::Mat frame, noise(kHeight, kWidth, CV_16SC3);
  int index = 0, written = 0;
  for (const Segment& seg : kSegments) {
    for (int k = 0; k < seg.frames; ++k, ++index) {
      if (index % every != 0) continue;  // (each frame's noise is seeded by its index: the same frames as at 30 fps)
      const Motion m = motion(seg.name, k, seg.frames);
      const double a = m.degrees * kPi / 180, s = base * m.scale;
      const double c = std::cos(a) * s, sn = std::sin(a) * s;
      // p' = (fx + dx, fy + dy) + s R (p - centre)
      cv::Matx23d M(c, -sn, fx + m.dx - (c * cx - sn * cy), sn, c, fy + m.dy - (sn * cx + c * cy));
      cv::warpAffine(img, frame, M, cv::Size(kWidth, kHeight), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                     cv::Scalar(96, 96, 96));
      cv::RNG rng(static_cast<std::uint64_t>(22000 + index));
      rng.fill(noise, cv::RNG::NORMAL, 0, kNoiseSigma);
      cv::Mat noisy;
      frame.convertTo(noisy, CV_16SC3);
      noisy += noise;
      noisy.convertTo(frame, CV_8UC3);  // saturating
      bgr_to_i420(frame, planes);
      video << "FRAME\n";
      video.write(reinterpret_cast<const char*>(planes.data()), static_cast<std::streamsize>(planes.size()));

      Json::Array points;
      int inside = 0;
      for (const Point2f& p : pts) {
        const double x = M(0, 0) * p.x + M(0, 1) * p.y + M(0, 2), y = M(1, 0) * p.x + M(1, 1) * p.y + M(1, 2);
        if (x >= 0 && x <= kWidth - 1 && y >= 0 && y <= kHeight - 1) ++inside;
        points.push_back(Json(Json::Array{Json(round3(x)), Json(round3(y))}));
      }
      Json line = Json::object();
      line["frame"] = written++;
      line["source_frame"] = index;  // in the 30 fps video
      line["t_ms"] = round3(1000.0 * index / kFps);
      line["segment"] = seg.name;
      line["in_frame"] = inside == static_cast<int>(pts.size());
      line["points"] = inside > 0 ? Json(points) : Json(nullptr);
      line["affine"] = Json(Json::Array{Json(M(0, 0)), Json(M(0, 1)), Json(M(0, 2)), Json(M(1, 0)), Json(M(1, 1)),
                                        Json(M(1, 2))});
      truth << line.dump() << "\n";
    }
  }
  video.close();
  truth.close();
  if (!video || !truth) throw std::runtime_error(out_video + ": write failed (disk full?)");
  fs::rename(tmp_video, out_video);
  fs::rename(tmp_truth, out_truth);
  cleanup.paths.clear();
  std::printf("make_test_video: %d frames %dx%d at %g fps from %s\n  video: %s\n  truth: %s\n", written, kWidth,
              kHeight, static_cast<double>(kFps) / every, photo.c_str(), out_video.c_str(), out_truth.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_test_video: error: %s\n", e.what());
    return 1;
  }
}
