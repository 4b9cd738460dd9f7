#include "facekeys/schema.hpp"

#include <stdexcept>
#include <utility>

namespace facekeys {
namespace {

std::vector<int> range(int first, int last) {  // inclusive, like the tables in the docs
  std::vector<int> out;
  for (int i = first; i <= last; ++i) out.push_back(i);
  return out;
}

// Pairs are written once (a <-> b); unlisted indices map to themselves. Filling
// both directions from one list makes an asymmetric table impossible to write.
std::vector<int> permutation_from_pairs(int n, const std::vector<std::pair<int, int>>& pairs) {
  std::vector<int> perm = range(0, n - 1);
  for (const auto& p : pairs) {
    perm[p.first] = p.second;
    perm[p.second] = p.first;
  }
  return perm;
}

// Point names default to "<group>_<k>" (k counted within the group) so every
// point has a stable, readable name; the landmarks people ask for by name
// (eye corners, nose tip, mouth corners) then get their anatomical names.
std::vector<std::string> names_from_groups(int n, const std::vector<LandmarkSchema::Group>& groups,
                                           const std::vector<std::pair<int, std::string>>& special) {
  std::vector<std::string> names(n);
  for (const auto& g : groups)
    for (std::size_t k = 0; k < g.indices.size(); ++k) names[g.indices[k]] = g.name + "_" + std::to_string(k);
  for (const auto& s : special) names[s.first] = s.second;
  return names;
}

LandmarkSchema make_imm58() {
  LandmarkSchema s;
  s.name = "imm58";
  s.num_points = 58;
  // Group order follows the .asf path numbers (0..6).
  s.groups = {{"jaw", range(0, 12)},       {"left_eye", range(13, 20)},  {"right_eye", range(21, 28)},
              {"left_brow", range(29, 33)}, {"right_brow", range(34, 38)}, {"mouth", range(39, 46)},
              {"nose", range(47, 57)}};
  // Open/closed as the .asf "type" column says (4 = open path, 0 = closed).
  s.polylines = {{range(0, 12), false},  {range(13, 20), true},  {range(21, 28), true}, {range(29, 33), false},
                 {range(34, 38), false}, {range(39, 46), true},  {range(47, 57), false}};
  std::vector<std::pair<int, int>> pairs;
  // Jaw runs image-left to image-right, so it reverses.
  for (int i = 0; i < 6; ++i) pairs.push_back({i, 12 - i});
  // Both eyes start at the outer corner (13, 21) and run over the upper lid
  // towards the nose, so point k of one eye is point k of the other.
  for (int k = 0; k < 8; ++k) pairs.push_back({13 + k, 21 + k});
  // Both brows start at the inner end (29, 34) and run outwards.
  for (int k = 0; k < 5; ++k) pairs.push_back({29 + k, 34 + k});
  // Mouth: 39 and 43 are the corners, 40-42 the upper lip (41 centre),
  // 44-46 the lower lip (45 centre).
  pairs.insert(pairs.end(), {{39, 43}, {40, 42}, {44, 46}});
  // Nose runs from beside the right eye (47) round the nostrils (52 centre) to
  // beside the left eye (57), so it reverses about 52.
  for (int k = 0; k < 5; ++k) pairs.push_back({47 + k, 57 - k});
  s.flip_permutation = permutation_from_pairs(58, pairs);
  s.nose_tip = 52;
  // IMM has no standard inter-ocular points; the outer corners are the
  // analogue of iBUG's 45 / 36.
  s.left_eye_outer = 13;
  s.right_eye_outer = 21;
  s.point_names = names_from_groups(58, s.groups,
                                    {{13, "left_eye_outer"},
                                     {17, "left_eye_inner"},
                                     {21, "right_eye_outer"},
                                     {25, "right_eye_inner"},
                                     {39, "mouth_right_corner"},
                                     {43, "mouth_left_corner"},
                                     {52, "nose_tip"}});
  return s;
}

LandmarkSchema make_ibug68() {
  LandmarkSchema s;
  s.name = "ibug68";
  s.num_points = 68;
  s.groups = {{"jaw", range(0, 16)},       {"right_brow", range(17, 21)}, {"left_brow", range(22, 26)},
              {"nose", range(27, 35)},     {"right_eye", range(36, 41)},  {"left_eye", range(42, 47)},
              {"mouth", range(48, 67)}};
  // Drawn the way dlib's render_face_detections draws the 68-point markup:
  // the lower nose is closed through the tip (30).
  s.polylines = {{range(0, 16), false},           {range(17, 21), false}, {range(22, 26), false},
                 {range(27, 30), false},          {range(30, 35), true},  {range(36, 41), true},
                 {range(42, 47), true},           {range(48, 59), true},  {range(60, 67), true}};
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < 8; ++i) pairs.push_back({i, 16 - i});  // jaw, 8 (chin) fixed
  for (int k = 0; k < 5; ++k) pairs.push_back({17 + k, 26 - k});  // brows run image-left to image-right
  pairs.insert(pairs.end(), {{31, 35}, {32, 34}});            // 27-30 and 33 on the midline
  // Eyes: both start at the image-left corner and go clockwise over the upper
  // lid, so the mirror maps upper lid to upper lid with the order reversed.
  pairs.insert(pairs.end(), {{36, 45}, {37, 44}, {38, 43}, {39, 42}, {40, 47}, {41, 46}});
  // Lips: 51/57 and 62/66 on the midline.
  pairs.insert(pairs.end(), {{48, 54}, {49, 53}, {50, 52}, {55, 59}, {56, 58}});
  pairs.insert(pairs.end(), {{60, 64}, {61, 63}, {65, 67}});
  s.flip_permutation = permutation_from_pairs(68, pairs);
  s.nose_tip = 30;
  s.left_eye_outer = 45;
  s.right_eye_outer = 36;
  s.point_names = names_from_groups(68, s.groups,
                                    {{8, "chin"},
                                     {30, "nose_tip"},
                                     {33, "nose_bottom"},
                                     {36, "right_eye_outer"},
                                     {39, "right_eye_inner"},
                                     {42, "left_eye_inner"},
                                     {45, "left_eye_outer"},
                                     {48, "mouth_right_corner"},
                                     {54, "mouth_left_corner"}});
  return s;
}

LandmarkSchema make_nose_tip() {
  LandmarkSchema s;
  s.name = "nose_tip";
  s.num_points = 1;
  s.point_names = {"nose_tip"};
  s.groups = {{"nose", {0}}};
  s.flip_permutation = {0};
  s.nose_tip = 0;
  return s;
}

}  // namespace

const LandmarkSchema::Group* LandmarkSchema::group(const std::string& group_name) const {
  for (const auto& g : groups)
    if (g.name == group_name) return &g;
  return nullptr;
}

const LandmarkSchema& imm58() {
  static const LandmarkSchema s = make_imm58();
  return s;
}

const LandmarkSchema& ibug68() {
  static const LandmarkSchema s = make_ibug68();
  return s;
}

const LandmarkSchema& nose_tip_only() {
  static const LandmarkSchema s = make_nose_tip();
  return s;
}

std::vector<std::string> schema_names() { return {"imm58", "ibug68", "nose_tip"}; }

const LandmarkSchema& schema_by_name(const std::string& name) {
  if (name == "imm58") return imm58();
  if (name == "ibug68") return ibug68();
  if (name == "nose_tip") return nose_tip_only();
  throw std::invalid_argument("unknown landmark schema '" + name + "' (known: imm58, ibug68, nose_tip)");
}

std::vector<Point2f> relabel_for_flip(const std::vector<Point2f>& points, const LandmarkSchema& schema) {
  if (points.size() != static_cast<std::size_t>(schema.num_points))
    throw std::invalid_argument("relabel_for_flip: schema '" + schema.name + "' has " +
                                std::to_string(schema.num_points) + " points, got " +
                                std::to_string(points.size()));
  std::vector<Point2f> out(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) out[schema.flip_permutation[i]] = points[i];
  return out;
}

std::vector<int> pack_points_for_model(const LandmarkSchema& pack, const std::string& model_schema) {
  std::vector<int> keep;
  if (model_schema == pack.name) {
    for (int i = 0; i < pack.num_points; ++i) keep.push_back(i);
  } else if (model_schema == nose_tip_only().name && pack.nose_tip >= 0) {
    keep.push_back(pack.nose_tip);
  }
  return keep;
}

}  // namespace facekeys
