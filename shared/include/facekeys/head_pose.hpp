// Head pose from 68 points: a generic 3D face and a small perspective-n-point
// solver, so both front ends (photos, and video later) report yaw, pitch and
// roll the same way without OpenCV (tests/opencv checks it against
// cv::solvePnP).
//
// The generic face (kGenericFace68) is an average adult face in millimetres,
// written from anthropometric proportions: outer eye corners 90 mm apart,
// inner 32 mm, nasion to chin 120 mm, the nose tip 30 mm in front of the eye
// corners. It gives 3D positions for the points whose place on a face varies
// least between people and expressions (eye corners, nose, mouth corners,
// chin, outer brows); the others are not used.
//
// Camera: a pinhole at the image centre, focal length max(W, H) pixels (about
// a 53 degree field of view, a phone's main camera); the pose hardly depends
// on it for a face that fills a fraction of the photo.
//
// Angles, in degrees, of the rotation from the generic face (looking at the
// camera, upright) to the face in the photo, R = Rz(roll) * Ry(yaw) * Rx(pitch):
//   yaw   > 0 when the face turns towards the image's right (the person's left)
//   pitch > 0 when the face tilts up (chin forward)
//   roll  > 0 when the face leans clockwise in the image
#pragma once

#include <array>
#include <vector>

#include "facekeys/geometry.hpp"

namespace facekeys {

struct Point3f {
  // mm, in the camera's axes for a face looking at it: x to the image's right,
  // y down, z away from the camera (the nose tip is nearest: the eyes' z is larger)
  float x = 0.f, y = 0.f, z = 0.f;
};

struct GenericPoint {
  int index;      // ibug68 point
  Point3f where;  // on the generic face, origin at the nose tip
};
// The ibug68 points of the generic face used for the pose.
const std::vector<GenericPoint>& generic_face68();

struct HeadPose {
  double yaw = 0, pitch = 0, roll = 0;  // degrees
  std::array<double, 3> rotation{};     // Rodrigues vector, camera frame
  std::array<double, 3> translation{};  // mm, camera frame
  double rms_px = 0;                    // reprojection error of the points used
};

// The camera of the convention above for a width x height image.
struct PinholeCamera {
  double f = 1, cx = 0, cy = 0;
};
PinholeCamera default_camera(int width, int height);

// Pose of a face from its 68 points (image pixels, crop.hpp convention). Points
// that are not finite are left out. Returns false when fewer than 6 of the
// generic face's points are usable or the solver does not converge.
bool head_pose(const std::vector<Point2f>& points68, const PinholeCamera& camera, HeadPose& pose);

// Where the generic face's points land under a pose (for tests and drawing
// pose axes): the camera projection of R * X + t.
Point2f project_point(const Point3f& X, const std::array<double, 3>& rotation,
                      const std::array<double, 3>& translation, const PinholeCamera& camera);

// Rodrigues vector <-> yaw, pitch, roll (degrees) of the convention above.
std::array<double, 3> rotation_from_angles(double yaw, double pitch, double roll);
void angles_from_rotation(const std::array<double, 3>& rotation, double& yaw, double& pitch, double& roll);

}  // namespace facekeys
