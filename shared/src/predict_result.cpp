#include "facekeys/predict_result.hpp"

#include <algorithm>
#include <cmath>

#include "facekeys/face_openness.hpp"
#include "facekeys/head_pose.hpp"
#include "facekeys/keypoint_pipeline.hpp"

namespace facekeys {
namespace {

double round_to(double v, double step) { return std::round(v / step) * step; }
Json number_or_null(double v, double step) { return std::isfinite(v) ? Json(round_to(v, step)) : Json(); }

// 68-point faces: head pose (head_pose.hpp) and eye and mouth openness
// (face_openness.hpp), each left out when its points are not all there.
void add_face_measures(Json& o, const std::vector<Point2f>& points, int width, int height) {
  HeadPose pose;
  if (head_pose(points, default_camera(width, height), pose)) {
    Json j = Json::object();
    j["yaw"] = round_to(pose.yaw, 0.1);
    j["pitch"] = round_to(pose.pitch, 0.1);
    j["roll"] = round_to(pose.roll, 0.1);
    o["pose"] = j;
  }
  FaceOpenness open;
  if (face_openness(points, open)) {
    Json eyes = Json::object();
    eyes["left"] = round_to(open.left_eye, 0.001);
    eyes["right"] = round_to(open.right_eye, 0.001);
    o["eyes"] = eyes;
    o["mouth"] = round_to(open.mouth, 0.001);
  }
}

}  // namespace

std::size_t keypoint_runs(const ModelCard& card, std::size_t n_faces) {
  return card_is_whole_image(card) ? std::min<std::size_t>(n_faces, 1) : n_faces;
}

Json predicted_face_json(const PredictedFace& f, const ModelCard* card, int width, int height) {
  Json o = Json::object();
  o["box"] = Json(Json::Array{number_or_null(f.box.x, 0.01), number_or_null(f.box.y, 0.01),
                              number_or_null(f.box.w, 0.01), number_or_null(f.box.h, 0.01)});
  o["score"] = number_or_null(f.score, 0.0001);
  if (f.manual) o["manual"] = true;
  Json pts = Json::array();
  for (const Point2f& p : f.points) pts.push_back(Json(Json::Array{number_or_null(p.x, 0.01), number_or_null(p.y, 0.01)}));
  o["points"] = pts;
  if (!f.points.empty()) o["confidence"] = number_or_null(f.confidence, 0.001);
  if (card && card->schema == "ibug68") add_face_measures(o, f.points, width, height);
  return o;
}

Json predict_result_json(const std::string& image, int width, int height, const std::vector<PredictedFace>& faces,
                         const ModelCard* card) {
  Json j = Json::object();
  j["image"] = image;
  j["width"] = width;
  j["height"] = height;
  Json jf = Json::array();
  for (const PredictedFace& f : faces) jf.push_back(predicted_face_json(f, card, width, height));
  j["faces"] = jf;
  j["model"] = card ? Json(card->name) : Json();
  if (card) {
    j["schema"] = card->schema;
    if (keypoint_runs(*card, faces.size()) < faces.size())
      j["note"] = "whole-image model: keypoints for the best-scoring face only";
  }
  return j;
}

}  // namespace facekeys
