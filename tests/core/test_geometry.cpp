#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "support/catch.hpp"

#include "facekeys/geometry.hpp"

using facekeys::Affine2D;
using facekeys::Point2f;

namespace {

Affine2D random_affine(std::mt19937& rng) {
    std::uniform_real_distribution<double> coef(-3.0, 3.0);
    for (;;) {
        Affine2D m;
        m.a = coef(rng);
        m.b = coef(rng);
        m.c = coef(rng) * 100.0;
        m.d = coef(rng);
        m.e = coef(rng);
        m.f = coef(rng) * 100.0;
        if (std::fabs(m.determinant()) > 0.1) return m;
    }
}

}  // namespace

TEST_CASE("geometry: basic maps send known points to known places", "[geometry]") {
    const Point2f p{3.f, -2.f};
    const Point2f i = Affine2D::identity().apply(p);
    CHECK(i.x == 3.f);
    CHECK(i.y == -2.f);

    const Point2f t = Affine2D::translation(10.0, 0.5).apply(p);
    CHECK(t.x == 13.f);
    CHECK(t.y == -1.5f);

    const Point2f s = Affine2D::scaling(2.0, 3.0).apply(p);
    CHECK(s.x == 6.f);
    CHECK(s.y == -6.f);

    const Point2f u = Affine2D::scaling(0.5).apply(p);
    CHECK(u.x == 1.5f);
    CHECK(u.y == -1.f);

    const std::vector<Point2f> many = Affine2D::translation(1.0, 1.0).apply(std::vector<Point2f>{{0.f, 0.f}, {2.f, 3.f}});
    REQUIRE(many.size() == 2);
    CHECK(many[1].x == 3.f);
    CHECK(many[1].y == 4.f);
}

TEST_CASE("geometry: compose(A, B) applies B first, then A", "[geometry]") {
    const Affine2D A = Affine2D::translation(1.0, 2.0);
    const Affine2D B = Affine2D::scaling(2.0);
    const Point2f ab = compose(A, B).apply(Point2f{1.f, 1.f});  // scale, then shift
    CHECK(ab.x == 3.f);
    CHECK(ab.y == 4.f);
    const Point2f ba = compose(B, A).apply(Point2f{1.f, 1.f});  // shift, then scale
    CHECK(ba.x == 4.f);
    CHECK(ba.y == 6.f);

    std::mt19937 rng(7);
    std::uniform_real_distribution<float> pos(-500.f, 500.f);
    for (int k = 0; k < 50; ++k) {
        const Affine2D M = random_affine(rng);
        const Affine2D N = random_affine(rng);
        const Point2f p{pos(rng), pos(rng)};
        const Point2f direct = M.apply(N.apply(p));
        const Point2f composed = compose(M, N).apply(p);
        CHECK(composed.x == Approx(direct.x).margin(1e-2));
        CHECK(composed.y == Approx(direct.y).margin(1e-2));
    }
}

TEST_CASE("geometry: inverse undoes the map", "[geometry]") {
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> pos(-1000.f, 1000.f);
    for (int k = 0; k < 100; ++k) {
        const Affine2D M = random_affine(rng);
        const Affine2D Mi = M.inverse();
        const Affine2D I = compose(Mi, M);
        CHECK(I.a == Approx(1.0).margin(1e-9));
        CHECK(I.b == Approx(0.0).margin(1e-9));
        CHECK(I.c == Approx(0.0).margin(1e-7));
        CHECK(I.d == Approx(0.0).margin(1e-9));
        CHECK(I.e == Approx(1.0).margin(1e-9));
        CHECK(I.f == Approx(0.0).margin(1e-7));
        const Point2f p{pos(rng), pos(rng)};
        const Point2f back = Mi.apply(M.apply(p));
        CHECK(back.x == Approx(p.x).margin(1e-3));
        CHECK(back.y == Approx(p.y).margin(1e-3));
    }
    // A legitimately tiny scale must not be mistaken for a singular map.
    const Affine2D tiny = Affine2D::scaling(1e-9);
    CHECK(tiny.inverse().a == Approx(1e9));
}

TEST_CASE("geometry: singular or non-finite maps refuse to invert", "[geometry]") {
    CHECK_THROWS_AS(Affine2D::scaling(0.0, 1.0).inverse(), std::invalid_argument);
    Affine2D rank1;
    rank1.a = 1.0;
    rank1.b = 2.0;
    rank1.d = 2.0;
    rank1.e = 4.0;
    CHECK_THROWS_AS(rank1.inverse(), std::invalid_argument);
    Affine2D nan = Affine2D::identity();
    nan.c = std::nan("");
    CHECK_FALSE(nan.is_finite());
    CHECK_THROWS_AS(nan.inverse(), std::invalid_argument);
}

TEST_CASE("geometry: rotation_about follows the OpenCV convention", "[geometry]") {
    const Point2f c{50.f, 40.f};
    const Affine2D R = Affine2D::rotation_about(c, 90.0);
    const Point2f fixed = R.apply(c);
    CHECK(fixed.x == Approx(50.f).margin(1e-4));
    CHECK(fixed.y == Approx(40.f).margin(1e-4));
    // Positive angles turn counter-clockwise on screen (y down): a point to the
    // right of the centre moves up.
    const Point2f right = R.apply(Point2f{60.f, 40.f});
    CHECK(right.x == Approx(50.f).margin(1e-4));
    CHECK(right.y == Approx(30.f).margin(1e-4));
    // Scale about the centre.
    const Point2f scaled = Affine2D::rotation_about(c, 0.0, 2.0).apply(Point2f{60.f, 45.f});
    CHECK(scaled.x == Approx(70.f).margin(1e-4));
    CHECK(scaled.y == Approx(50.f).margin(1e-4));
    // Rotating by a and then by -a is the identity.
    const Affine2D back = compose(Affine2D::rotation_about(c, -33.0, 0.5), Affine2D::rotation_about(c, 33.0, 2.0));
    const Point2f q = back.apply(Point2f{-7.f, 123.f});
    CHECK(q.x == Approx(-7.f).margin(1e-4));
    CHECK(q.y == Approx(123.f).margin(1e-4));
}

TEST_CASE("geometry: normalised coordinates cover the image extent", "[geometry]") {
    const int W = 4, H = 8;
    const Point2f corner0 = facekeys::to_normalized(Point2f{-0.5f, -0.5f}, W, H);
    CHECK(corner0.x == 0.f);
    CHECK(corner0.y == 0.f);
    const Point2f corner1 = facekeys::to_normalized(Point2f{W - 0.5f, H - 0.5f}, W, H);
    CHECK(corner1.x == 1.f);
    CHECK(corner1.y == 1.f);
    const Point2f first = facekeys::to_normalized(Point2f{0.f, 0.f}, W, H);
    CHECK(first.x == 0.125f);
    CHECK(first.y == 0.0625f);
    const Point2f centre = facekeys::to_normalized(Point2f{1.5f, 3.5f}, W, H);
    CHECK(centre.x == 0.5f);
    CHECK(centre.y == 0.5f);
    const Point2f px = facekeys::from_normalized(Point2f{0.5f, 1.f}, W, H);
    CHECK(px.x == 1.5f);
    CHECK(px.y == 7.5f);

    std::mt19937 rng(3);
    std::uniform_real_distribution<float> pos(-10.f, 700.f);
    std::vector<Point2f> pts;
    for (int k = 0; k < 100; ++k) pts.push_back(Point2f{pos(rng), pos(rng)});
    const auto n = facekeys::to_normalized(pts, 640, 480);
    const auto back = facekeys::from_normalized(n, 640, 480);
    REQUIRE(back.size() == pts.size());
    for (std::size_t k = 0; k < pts.size(); ++k) {
        CHECK(back[k].x == Approx(pts[k].x).margin(1e-4));
        CHECK(back[k].y == Approx(pts[k].y).margin(1e-4));
    }
}

TEST_CASE("geometry: horizontal flip is x' = W-1-x, u' = 1-u, and its own inverse", "[geometry]") {
    const int W = 10;
    const Affine2D F = facekeys::horizontal_flip(W);
    const Point2f p = F.apply(Point2f{0.f, 3.f});
    CHECK(p.x == 9.f);
    CHECK(p.y == 3.f);
    CHECK(F.apply(Point2f{4.5f, 0.f}).x == 4.5f);  // the centre line is fixed
    const Affine2D FF = compose(F, F);
    CHECK(FF.a == 1.0);
    CHECK(FF.b == 0.0);
    CHECK(FF.c == 0.0);
    CHECK(FF.d == 0.0);
    CHECK(FF.e == 1.0);
    CHECK(FF.f == 0.0);

    std::mt19937 rng(5);
    std::uniform_real_distribution<float> pos(-0.5f, W - 0.5f);
    for (int k = 0; k < 20; ++k) {
        const Point2f q{pos(rng), pos(rng)};
        const Point2f u = facekeys::to_normalized(q, W, 7);
        const Point2f uf = facekeys::to_normalized(F.apply(q), W, 7);
        CHECK(uf.x == Approx(1.f - u.x).margin(1e-6));
        CHECK(uf.y == Approx(u.y).margin(1e-6));
    }
}

TEST_CASE("geometry: bad sizes throw", "[geometry]") {
    CHECK_THROWS_AS(facekeys::horizontal_flip(0), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::to_normalized(Point2f{}, 0, 5), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::from_normalized(Point2f{}, 5, -1), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::to_normalized(std::vector<Point2f>{}, -3, 5), std::invalid_argument);
    CHECK_THROWS_AS(facekeys::from_normalized(std::vector<Point2f>{}, 3, 0), std::invalid_argument);
}
