#include "facekeys/predict_result.hpp"

#include <algorithm>
#include <cmath>

#include "facekeys/keypoint_pipeline.hpp"

namespace facekeys {
namespace {

double round_to(double v, double step) { return std::round(v / step) * step; }
Json number_or_null(double v, double step) { return std::isfinite(v) ? Json(round_to(v, step)) : Json(); }

}  // namespace

std::size_t keypoint_runs(const ModelCard& card, std::size_t n_faces) {
  return card_is_whole_image(card) ? std::min<std::size_t>(n_faces, 1) : n_faces;
}

Json predict_result_json(const std::string& image, int width, int height, const std::vector<PredictedFace>& faces,
                         const ModelCard* card) {
  Json j = Json::object();
  j["image"] = image;
  j["width"] = width;
  j["height"] = height;
  Json jf = Json::array();
  for (const PredictedFace& f : faces) {
    Json o = Json::object();
    o["box"] = Json(Json::Array{number_or_null(f.box.x, 0.01), number_or_null(f.box.y, 0.01),
                                number_or_null(f.box.w, 0.01), number_or_null(f.box.h, 0.01)});
    o["score"] = number_or_null(f.score, 0.0001);
    if (f.manual) o["manual"] = true;
    Json pts = Json::array();
    for (const Point2f& p : f.points) pts.push_back(Json(Json::Array{number_or_null(p.x, 0.01), number_or_null(p.y, 0.01)}));
    o["points"] = pts;
    jf.push_back(o);
  }
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
