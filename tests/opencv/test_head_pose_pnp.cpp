// The core's head pose solver (facekeys/head_pose.hpp) against cv::solvePnP
// (SQPnP, then Levenberg-Marquardt on the same reprojection error):
// on exact projections of the generic face, and on noisy ones like real points.
#ifdef FACEKEYS_HAVE_CALIB3D
#include <opencv2/calib3d.hpp>
#include <random>
#include <vector>

#include "support/catch.hpp"

#include "facekeys/head_pose.hpp"

using namespace facekeys;

namespace {

// cv::solvePnP on the generic face's points -> yaw, pitch, roll.
bool opencv_pose(const std::vector<Point2f>& pts, const PinholeCamera& cam, double& yaw, double& pitch, double& roll) {
  std::vector<cv::Point3f> object;
  std::vector<cv::Point2f> image;
  for (const GenericPoint& g : generic_face68()) {
    object.emplace_back(g.where.x, g.where.y, g.where.z);
    image.emplace_back(pts[g.index].x, pts[g.index].y);
  }
  const cv::Matx33d K(cam.f, 0, cam.cx, 0, cam.f, cam.cy, 0, 0, 1);
  cv::Vec3d rvec, tvec;
  // SQPnP finds the global minimum of its (object-space) error; Levenberg-Marquardt then
  // refines the reprojection error, which the core minimises. (SOLVEPNP_ITERATIVE from its DLT
  // start lands now and then, with 1.5 px of noise, in a face turned upside down.)
  if (!cv::solvePnP(object, image, K, cv::noArray(), rvec, tvec, false, cv::SOLVEPNP_SQPNP)) return false;
  cv::solvePnPRefineLM(object, image, K, cv::noArray(), rvec, tvec);
  angles_from_rotation({rvec[0], rvec[1], rvec[2]}, yaw, pitch, roll);
  return true;
}

}  // namespace

TEST_CASE("head pose: the core's solver agrees with cv::solvePnP", "[head_pose][opencv]") {
  const PinholeCamera cam = default_camera(1280, 720);
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> yaw(-50, 50), pitch(-25, 25), roll(-25, 25), dist(400, 1500);
  std::normal_distribution<float> noise(0.f, 1.5f);
  double worst_exact = 0, worst_noisy = 0;
  for (int i = 0; i < 100; ++i) {
    const double y = yaw(rng), p = pitch(rng), r = roll(rng);
    const auto rot = rotation_from_angles(y, p, r);
    const double z = dist(rng);
    std::vector<Point2f> exact(68, Point2f{NAN, NAN}), noisy(68, Point2f{NAN, NAN});
    for (const GenericPoint& g : generic_face68()) {
      exact[g.index] = project_point(g.where, rot, {-40, 25, z}, cam);
      noisy[g.index] = Point2f{exact[g.index].x + noise(rng), exact[g.index].y + noise(rng)};
    }
    for (int k = 0; k < 2; ++k) {
      const std::vector<Point2f>& pts = k == 0 ? exact : noisy;
      HeadPose ours;
      double cy = 0, cp = 0, cr = 0;
      REQUIRE(head_pose(pts, cam, ours));
      REQUIRE(opencv_pose(pts, cam, cy, cp, cr));
      const double d = std::max({std::abs(ours.yaw - cy), std::abs(ours.pitch - cp), std::abs(ours.roll - cr)});
      (k == 0 ? worst_exact : worst_noisy) = std::max(k == 0 ? worst_exact : worst_noisy, d);
      if (k == 0) {  // both recover the truth from exact projections
        CHECK(std::abs(ours.yaw - y) <= 0.5);
        CHECK(std::abs(cy - y) <= 0.5);
      }
    }
  }
  INFO("largest angle difference, ours vs cv::solvePnP: exact " << worst_exact << " deg, noisy " << worst_noisy);
  CHECK(worst_exact <= 0.5);
  CHECK(worst_noisy <= 0.5);  // the same minimum of the same error
  WARN("head pose vs cv::solvePnP over 100 poses: exact " << worst_exact << " deg, with 1.5 px noise " << worst_noisy
                                                          << " deg");
}
#endif
