// Metrics against values computed by hand (the arithmetic is in the comments),
// so a definition drifting from docs/CONVENTIONS.md shows up as a failure.
#include "facekeys/metrics.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "support/catch.hpp"

using facekeys::auc;
using facekeys::ced_curve;
using facekeys::failure_rate;
using facekeys::kaggle_mae;
using facekeys::mse_normalized;
using facekeys::nme_per_image;
using facekeys::seed_mae;

namespace {

// N=2 images, K=2 points, normalised coordinates.
// Differences pred - gt: image 0: (0, -0.1), (-0.2, 0); image 1: (0.1, 0), (0, -0.3).
const std::vector<float> kPredNorm = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.5f, 0.6f, 0.7f};
const std::vector<float> kGtNorm = {0.1f, 0.3f, 0.5f, 0.4f, 0.4f, 0.5f, 0.6f, 1.0f};

// N=2, K=3, pixels. GT eyes are points 0 and 2.
// Image 0: eyes (0,0)-(10,0), IOD 10; errors |(3,4)|=5, 0, |(0,1)|=1 -> mean 2 -> NME 0.2.
// Image 1: eyes (100,100)-(100,120), IOD 20; errors 0, |(6,8)|=10, 0 -> mean 10/3 -> NME 1/6.
const std::vector<float> kGtPx = {0, 0, 5, 5, 10, 0, 100, 100, 90, 110, 100, 120};
const std::vector<float> kPredPx = {3, 4, 5, 5, 10, 1, 100, 100, 96, 118, 100, 120};

const double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("mse_normalized: mean squared error over every coordinate", "[metrics]") {
  // (0 + 0.01 + 0.04 + 0 + 0.01 + 0 + 0 + 0.09) / 8 = 0.15 / 8
  CHECK(mse_normalized(kPredNorm, kGtNorm, 2, 2) == Approx(0.01875).margin(1e-7));
  CHECK(mse_normalized(kGtNorm, kGtNorm, 2, 2) == 0.0);
}

TEST_CASE("seed_mae: per-image sum of |du|+|dv|, averaged over images", "[metrics]") {
  // image 0: 0.1 + 0.2 = 0.3; image 1: 0.1 + 0.3 = 0.4; mean 0.35
  CHECK(seed_mae(kPredNorm, kGtNorm, 2, 2) == Approx(0.35).margin(1e-6));
  // The same errors counted as one image of 4 points: the per-image sum is 0.7.
  CHECK(seed_mae(kPredNorm, kGtNorm, 1, 4) == Approx(0.7).margin(1e-6));
}

TEST_CASE("kaggle_mae: sum of |dx|+|dy| in pixels over N*K*2", "[metrics]") {
  const std::vector<float> pred = {10, 20, 30, 40, 0, 0, 3, 4};
  const std::vector<float> gt = {12, 20, 30, 37, 0, 0, 0, 0};
  // |.|: 2 0 0 3 0 0 3 4 -> 12 / 8
  CHECK(kaggle_mae(pred, gt, 2, 2) == Approx(1.5));
  // Pixel NME data: |.| 3 4 0 0 0 1 0 0 6 8 0 0 -> 22 / 12
  CHECK(kaggle_mae(kPredPx, kGtPx, 2, 3) == Approx(22.0 / 12.0));
}

TEST_CASE("nme_per_image: mean point-to-point error over inter-ocular distance", "[metrics]") {
  const std::vector<double> nme = nme_per_image(kPredPx, kGtPx, 2, 3, 0, 2);
  REQUIRE(nme.size() == 2);
  CHECK(nme[0] == Approx(0.2));
  CHECK(nme[1] == Approx(1.0 / 6.0));
  // The normaliser comes from the ground truth only: swapping pred and gt changes it.
  const std::vector<double> swapped = nme_per_image(kGtPx, kPredPx, 2, 3, 0, 2);
  CHECK(swapped[0] == Approx(2.0 / std::hypot(7.0, 3.0)));  // pred eyes (3,4)-(10,1)

  SECTION("zero normalising distance throws") {
    std::vector<float> gt = kGtPx;
    gt[10] = 100;
    gt[11] = 100;  // image 1: right eye on the left eye
    CHECK_THROWS_AS(nme_per_image(kPredPx, gt, 2, 3, 0, 2), std::invalid_argument);
    CHECK_THROWS_AS(nme_per_image(kPredPx, kGtPx, 2, 3, 1, 1), std::invalid_argument);
  }
  SECTION("eye index out of range throws") {
    CHECK_THROWS_AS(nme_per_image(kPredPx, kGtPx, 2, 3, 0, 3), std::invalid_argument);
  }
}

TEST_CASE("size mismatches and empty batches throw", "[metrics]") {
  std::vector<float> short_pred = kPredNorm;
  short_pred.pop_back();
  CHECK_THROWS_AS(mse_normalized(short_pred, kGtNorm, 2, 2), std::invalid_argument);
  CHECK_THROWS_AS(mse_normalized(kPredNorm, short_pred, 2, 2), std::invalid_argument);
  CHECK_THROWS_AS(seed_mae(short_pred, kGtNorm, 2, 2), std::invalid_argument);
  CHECK_THROWS_AS(kaggle_mae(short_pred, kGtNorm, 2, 2), std::invalid_argument);
  // Right total size, wrong N or K.
  CHECK_THROWS_AS(mse_normalized(kPredNorm, kGtNorm, 2, 3), std::invalid_argument);
  CHECK_THROWS_AS(nme_per_image(kPredPx, kGtPx, 3, 3, 0, 2), std::invalid_argument);
  CHECK_THROWS_AS(mse_normalized({}, {}, 0, 2), std::invalid_argument);
  CHECK_THROWS_AS(kaggle_mae({}, {}, 2, 0), std::invalid_argument);
  CHECK_THROWS_AS(failure_rate({}), std::invalid_argument);
  CHECK_THROWS_AS(auc({}), std::invalid_argument);
  CHECK_THROWS_AS(ced_curve({}), std::invalid_argument);
  CHECK_THROWS_AS(auc({0.01, -0.01}), std::invalid_argument);
  CHECK_THROWS_AS(auc({0.01}, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(ced_curve({0.01}, 0.1, 0), std::invalid_argument);
}

TEST_CASE("failure_rate: fraction of NMEs strictly above the threshold", "[metrics]") {
  CHECK(failure_rate({0.05, 0.10, 0.15, 0.20}) == Approx(0.5));  // 0.10 itself passes
  CHECK(failure_rate({0.05, 0.10, 0.15, 0.20}, 0.16) == Approx(0.25));
  CHECK(failure_rate({0.0, 0.01}) == 0.0);
  CHECK(failure_rate({0.2, 0.3}) == 1.0);
  // A diverged prediction is a failure, not a missing value.
  CHECK(failure_rate({0.01, kNaN}) == Approx(0.5));
}

TEST_CASE("ced_curve: fraction with NME <= each threshold", "[metrics]") {
  const facekeys::CedCurve c = ced_curve({0.015, 0.045, 0.075, 0.5}, 0.10, 10);
  REQUIRE(c.thresholds.size() == 11);
  REQUIRE(c.fractions.size() == 11);
  CHECK(c.thresholds.front() == 0.0);
  CHECK(c.thresholds.back() == 0.10);
  CHECK(c.thresholds[3] == Approx(0.03));
  const std::vector<double> expected = {0,   0,   .25, .25, .25, .5,
                                        .5,  .5,  .75, .75, .75};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("i = " << i);
    CHECK(c.fractions[i] == Approx(expected[i]));
  }
  // NaN is never <= t but stays in the denominator.
  const facekeys::CedCurve n = ced_curve({0.0, kNaN}, 0.10, 2);
  CHECK(n.fractions == std::vector<double>{0.5, 0.5, 0.5});
}

TEST_CASE("auc: exact area under the CED divided by max_error", "[metrics]") {
  // CED is 0 on [0,.015), .25 on [.015,.045), .5 on [.045,.075), .75 on [.075,.1]:
  // area = .25*.03 + .5*.03 + .75*.025 = .04125; / 0.1 = 0.4125.
  // Per image: (1-.15) + (1-.45) + (1-.75) + 0 = 1.65; / 4 = 0.4125.
  const std::vector<double> nmes = {0.015, 0.045, 0.075, 0.5};
  CHECK(auc(nmes) == Approx(0.4125));
  // {0, 0.05, 0.2}: CED 1/3 on [0,.05), 2/3 on [.05,.1] -> (.05/3 + .1/3) / .1 = 0.5
  CHECK(auc({0.0, 0.05, 0.2}) == Approx(0.5));

  CHECK(auc({0.0, 0.0, 0.0}) == 1.0);
  CHECK(auc({0.11, 0.2, 1.0}) == 0.0);
  CHECK(auc({0.1}) == 0.0);  // the CED reaches it only at the end point
  CHECK(auc({0.01, kNaN}) == Approx(0.45));
  CHECK(auc({0.02}, 0.08) == Approx(0.75));

  SECTION("agrees with integrating a finely sampled CED") {
    const facekeys::CedCurve c = ced_curve(nmes, 0.10, 100000);
    double area = 0;
    for (std::size_t i = 1; i < c.thresholds.size(); ++i) {
      area += 0.5 * (c.fractions[i] + c.fractions[i - 1]) * (c.thresholds[i] - c.thresholds[i - 1]);
    }
    CHECK(area / 0.10 == Approx(auc(nmes)).margin(1e-4));
  }
}

TEST_CASE("summarize_metrics fills every field consistently", "[metrics]") {
  // 2 images of 3 points: reuse the pixel set, and normalised coordinates of
  // the same points in a 200x200 image (u = (x + 0.5) / 200).
  std::vector<float> pred_norm(kPredPx.size()), gt_norm(kGtPx.size());
  for (std::size_t i = 0; i < kPredPx.size(); ++i) {
    pred_norm[i] = (kPredPx[i] + 0.5f) / 200.0f;
    gt_norm[i] = (kGtPx[i] + 0.5f) / 200.0f;
  }
  const facekeys::MetricSummary s =
      facekeys::summarize_metrics(pred_norm, gt_norm, kPredPx, kGtPx, 2, 3, 0, 2);
  CHECK(s.n == 2);
  // Squared pixel errors: 9+16+1+36+64 = 126 over 12 coordinates, in units of 1/200^2.
  CHECK(s.mse == Approx(126.0 / 12.0 / 40000.0).epsilon(1e-5));
  // Per-image |.| sums 8 and 14 px -> mean 11 px = 11/200.
  CHECK(s.seed_mae == Approx(11.0 / 200.0).epsilon(1e-5));
  CHECK(s.kaggle_mae == Approx(22.0 / 12.0));
  CHECK(s.nme == Approx((0.2 + 1.0 / 6.0) / 2));
  CHECK(s.fr_010 == 1.0);   // both NMEs > 0.10
  CHECK(s.auc_010 == 0.0);

  CHECK_THROWS_AS(facekeys::summarize_metrics(pred_norm, gt_norm, kPredPx, kGtPx, 2, 3, 0, 5),
                  std::invalid_argument);
}
