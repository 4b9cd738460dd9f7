// Landmark schemas: what each point index means, how to draw a shape, and how
// indices move under a horizontal flip.
//
// Everything that depends on the point layout (augmentation flips, NME's
// inter-ocular distance, overlay drawing, per-region error reports) reads it
// from here, so no tool re-derives a table. "left"/"right" in names are always
// the *person's* left/right (the person's right eye is on the image's left in a
// frontal photo).
#pragma once

#include <string>
#include <vector>

#include "facekeys/geometry.hpp"  // Point2f

namespace facekeys {

struct LandmarkSchema {
  // A named region (jaw, right_brow, left_brow, nose, right_eye, left_eye, mouth).
  struct Group {
    std::string name;
    std::vector<int> indices;
  };
  // A contour to draw: consecutive indices are joined; closed joins last to first.
  struct Polyline {
    std::vector<int> indices;
    bool closed = false;
  };

  std::string name;                     // "imm58", "ibug68", "nose_tip"
  int num_points = 0;
  std::vector<std::string> point_names;  // num_points unique names
  std::vector<Group> groups;
  std::vector<Polyline> polylines;
  // flip_permutation[i] = the index that point i takes after a horizontal
  // image flip (the person's left eye becomes the right eye in the mirror
  // image). An involution: applying it twice is the identity.
  std::vector<int> flip_permutation;
  int nose_tip = -1;
  // Outer eye corners, the normaliser for NME; -1 when the schema has no eyes.
  int left_eye_outer = -1;
  int right_eye_outer = -1;

  // The group with this name, or nullptr.
  const Group* group(const std::string& group_name) const;
};

// IMM Face Database, 58 points (0-based; ranges inclusive):
//   0-12 jaw (image left to image right), 13-20 left eye (closed, 13 = outer
//   corner), 21-28 right eye (closed, 21 = outer corner), 29-33 left brow,
//   34-38 right brow, 39-46 mouth (closed), 47-57 nose (open), nose tip 52.
// IMM defines no inter-ocular points; NME uses the outer eye corners 13 (left)
// and 21 (right), the analogue of iBUG's 45 and 36.
const LandmarkSchema& imm58();

// iBUG / 300-W 68-point markup (0-based): 0-16 jaw, 17-21 right brow,
// 22-26 left brow, 27-30 nose bridge (30 = tip), 31-35 lower nose, 36-41 right
// eye (36 outer), 42-47 left eye (45 outer), 48-59 outer lips, 60-67 inner lips.
const LandmarkSchema& ibug68();

// One point, the nose tip (the CS194 "nose tip" model); no eyes, so
// left_eye_outer = right_eye_outer = -1 and NME is undefined.
const LandmarkSchema& nose_tip_only();

// "imm58", "ibug68" or "nose_tip"; throws std::invalid_argument naming the
// known schemas for anything else.
const LandmarkSchema& schema_by_name(const std::string& name);
std::vector<std::string> schema_names();

// The points of a pack of schema `pack` that a model of schema `model_schema`
// predicts, in the model's output order: all of them when the schemas are the
// same, the nose tip alone for a nose_tip model on a full-face pack. Empty when
// the pack cannot serve the model. Training, eval and report all ask this.
std::vector<int> pack_points_for_model(const LandmarkSchema& pack, const std::string& model_schema);

// The shape after relabelling for a horizontal flip: out[flip_permutation[i]] =
// points[i]. Coordinates are not changed: mirror x first (pixel x' = W - 1 - x,
// normalised u' = 1 - u), then relabel. Throws std::invalid_argument if
// points.size() != schema.num_points.
std::vector<Point2f> relabel_for_flip(const std::vector<Point2f>& points, const LandmarkSchema& schema);

}  // namespace facekeys
