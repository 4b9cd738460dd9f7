// Annotation parsers (.asf, .pts, dlib XML, box CSV) on small synthetic
// fixtures (tests/fixtures/formats/) and on malformed in-memory texts. Every
// error must name the file and, where one applies, the line, because these
// messages are what a user sees after uploading a broken file.
#include "support/catch.hpp"

#include <algorithm>
#include <sstream>
#include <string>

#include "facekeys/asf.hpp"
#include "facekeys/box_csv.hpp"
#include "facekeys/crop.hpp"
#include "facekeys/dlib_xml.hpp"
#include "facekeys/error.hpp"
#include "facekeys/pts.hpp"

using namespace facekeys;
using Catch::Matchers::ContainsSubstring;
using Catch::Matchers::StartsWith;

namespace {

const std::string kFixtures = std::string(FACEKEYS_FIXTURES_DIR) + "/formats/";

// Runs f, which must throw FormatError, and returns what().
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  }
  FAIL("expected a FormatError");
  return {};
}

// The error of parsing `text` with `parse(text, name)`, as what().
#define PARSE_ERROR(expr) error_of([&] { (void)(expr); })

std::string asf_point_line(int index, double x, double y, int n) {
  std::ostringstream s;
  s << "0 \t4 \t" << x << " \t" << y << " \t" << index << " \t" << (index > 0 ? index - 1 : 0) << " \t"
    << (index + 1 < n ? index + 1 : index) << "\n";
  return s.str();
}

// A syntactically valid .asf with n made-up points.
std::string make_asf(int n, int count_line_value = -1) {
  std::string s = "# fake\n#\n" + std::to_string(count_line_value < 0 ? n : count_line_value) + "\n\n# points\n";
  // Connections stay within the announced count so only the count mismatch is wrong.
  const int conn_n = count_line_value < 0 ? n : std::min(n, count_line_value);
  for (int i = 0; i < n; ++i) s += asf_point_line(i, 0.1 + 0.01 * i, 0.2 + 0.005 * i, conn_n);
  s += "\n#\n# host image\n#\nfake.jpg\n";
  return s;
}

std::string make_pts(int n, int header_count = -1) {
  std::string s = "version: 1\nn_points:  " + std::to_string(header_count < 0 ? n : header_count) + "\n{\n";
  for (int i = 0; i < n; ++i) s += std::to_string(1 + i) + ".500000 " + std::to_string(2 + 2 * i) + ".000000\n";
  return s + "}";
}

}  // namespace

TEST_CASE("FormatError renders FILE:LINE: MESSAGE", "[formats][error]") {
  FormatError with_line("a.pts", 3, "expected x, got y");
  CHECK(std::string(with_line.what()) == "a.pts:3: expected x, got y");
  CHECK(with_line.file() == "a.pts");
  CHECK(with_line.line() == 3);
  CHECK(with_line.message() == "expected x, got y");
  FormatError no_line("a.pts", 0, "cannot open file");
  CHECK(std::string(no_line.what()) == "a.pts: cannot open file");
  const std::runtime_error& base = no_line;  // catchable as a runtime_error
  CHECK(std::string(base.what()) == "a.pts: cannot open file");
}

// ---------------------------------------------------------------- .asf

TEST_CASE("asf: parses the synthetic fixture", "[formats][asf]") {
  const AsfShape s = read_asf(kFixtures + "small4.asf", 4);
  REQUIRE(s.points.size() == 4);
  REQUIRE(s.info.size() == 4);
  CHECK(s.points[0].x == 0.25f);
  CHECK(s.points[0].y == 0.5f);
  CHECK(s.points[3].x == 0.5f);
  CHECK(s.points[3].y == 0.125f);
  CHECK(s.info[3].path == 1);
  CHECK(s.info[3].type == 0);
  CHECK(s.info[0].type == 4);
  CHECK(s.info[1].connects_from == 0);
  CHECK(s.info[1].connects_to == 2);
  CHECK(s.host_image == "fake-1m.jpg");

  const auto px = asf_to_pixels(s, 640, 480);
  CHECK(px[1].x == 320.0f);
  CHECK(px[1].y == 360.0f);

  // Any count is accepted with expected_points = 0; the default wants 58.
  CHECK(read_asf(kFixtures + "small4.asf", 0).points.size() == 4);
  const std::string err = error_of([&] { read_asf(kFixtures + "small4.asf"); });
  CHECK_THAT(err, ContainsSubstring("small4.asf:10: expected 58 points, file has 4"));
}

TEST_CASE("asf: optional user fields (10 fields per point line)", "[formats][asf]") {
  const AsfShape s = parse_asf("# format: ... <user1> <user2> <user3>\n2\n0 \t4 \t0.25 \t0.5 \t0 \t0 \t1\t0.00\t0.00\t0.00\n"
                               "0 \t4 \t0.75 \t0.5 \t1 \t0 \t1\t0.00\t0.00\t0.00\n\nx.jpg\n",
                               "user.asf", 2);
  REQUIRE(s.points.size() == 2);
  CHECK(s.points[1].x == 0.75f);
  CHECK(s.host_image == "x.jpg");
}

TEST_CASE("asf: 58 points by default, CRLF tolerated", "[formats][asf]") {
  const std::string text = make_asf(58);
  const AsfShape s = parse_asf(text, "fake.asf");
  REQUIRE(s.points.size() == 58);
  CHECK(s.points[57].x == Approx(0.1 + 0.57));
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  CHECK(parse_asf(crlf, "crlf.asf").points.size() == 58);
  CHECK(parse_asf(crlf, "crlf.asf").host_image == "fake.jpg");
}

TEST_CASE("asf: malformed files name the file, the line and what was expected", "[formats][asf]") {
  // Line numbers below refer to make_asf's layout: count on line 3, points
  // from line 6, then a blank line, 3 comment lines and the host image.
  SECTION("empty file") {
    CHECK_THAT(PARSE_ERROR(parse_asf("", "bad.asf")), ContainsSubstring("bad.asf:1: expected the point count line, got an empty file"));
  }
  SECTION("only comments") {
    CHECK_THAT(PARSE_ERROR(parse_asf("# a\n# b\n", "bad.asf")), ContainsSubstring("bad.asf:3: expected the point count line"));
  }
  SECTION("count is not a number") {
    CHECK_THAT(PARSE_ERROR(parse_asf("# x\nfifty-eight\n", "bad.asf")),
               ContainsSubstring("bad.asf:2: expected the point count (one integer), got 'fifty-eight'"));
  }
  SECTION("count is zero or absurdly large (never trusted for allocation)") {
    CHECK_THAT(PARSE_ERROR(parse_asf("0\n", "bad.asf", 0)), ContainsSubstring("bad.asf:1:"));
    CHECK_THAT(PARSE_ERROR(parse_asf("999999999999\n", "bad.asf", 0)), ContainsSubstring("out of range"));
    CHECK_THAT(PARSE_ERROR(parse_asf("20000\n", "bad.asf", 0)), ContainsSubstring("allowed 1..10000"));
  }
  SECTION("wrong count") {
    CHECK_THAT(PARSE_ERROR(parse_asf(make_asf(57), "bad.asf")), ContainsSubstring("bad.asf:3: expected 58 points, file has 57"));
  }
  SECTION("fewer point lines than the count line says") {
    // 4 points announced, 3 written: the host image name is read as point 4.
    const std::string err = PARSE_ERROR(parse_asf(make_asf(3, 4), "bad.asf", 4));
    CHECK_THAT(err, ContainsSubstring("bad.asf:13: expected point line 4 of 4"));
    CHECK_THAT(err, ContainsSubstring("got 'fake.jpg'"));
    CHECK_THAT(err, ContainsSubstring("the file has 3"));
  }
  SECTION("truncated inside the points") {
    std::string text = make_asf(4);
    text = text.substr(0, text.find("0.13"));  // cut inside point 3's line
    text = text.substr(0, text.rfind('\n') + 1);
    CHECK_THAT(PARSE_ERROR(parse_asf(text, "bad.asf", 4)),
               ContainsSubstring("bad.asf:9: expected point line 4 of 4 "));
    CHECK_THAT(PARSE_ERROR(parse_asf(text, "bad.asf", 4)), ContainsSubstring("got end of file"));
  }
  SECTION("more point lines than the count line says") {
    const std::string err = PARSE_ERROR(parse_asf(make_asf(5, 4), "bad.asf", 4));
    CHECK_THAT(err, ContainsSubstring("bad.asf:10: expected the host image file name, got another point line"));
  }
  SECTION("point numbers out of order") {
    std::string text = "2\n" + asf_point_line(0, 0.1, 0.1, 2) + asf_point_line(0, 0.2, 0.2, 2) + "x.jpg\n";
    CHECK_THAT(PARSE_ERROR(parse_asf(text, "bad.asf", 2)), ContainsSubstring("bad.asf:3: expected <point#> 1"));
  }
  SECTION("bad numbers") {
    auto with_x = [](const std::string& x) {
      return "1\n0 \t4 \t" + x + " \t0.5 \t0 \t0 \t0\nx.jpg\n";
    };
    CHECK_THAT(PARSE_ERROR(parse_asf(with_x("abc"), "bad.asf", 1)),
               ContainsSubstring("bad.asf:2: expected <x rel> (a number), got 'abc' (not a number)"));
    CHECK_THAT(PARSE_ERROR(parse_asf(with_x("nan"), "bad.asf", 1)), ContainsSubstring("bad.asf:2: expected <x rel> (a number), got 'nan' (not a finite number)"));
    CHECK_THAT(PARSE_ERROR(parse_asf(with_x("-inf"), "bad.asf", 1)), ContainsSubstring("not a finite number"));
    CHECK_THAT(PARSE_ERROR(parse_asf(with_x("1e30"), "bad.asf", 1)), ContainsSubstring("bad.asf:2:"));
    CHECK_THAT(PARSE_ERROR(parse_asf(with_x("1e30"), "bad.asf", 1)), ContainsSubstring("out of range"));
    CHECK_THAT(PARSE_ERROR(parse_asf(with_x("0.5x"), "bad.asf", 1)), ContainsSubstring("trailing characters"));
    CHECK_THAT(PARSE_ERROR(parse_asf(with_x("0x1p-2"), "bad.asf", 1)), ContainsSubstring("bad.asf:2:"));
    CHECK_THAT(PARSE_ERROR(parse_asf(with_x("."), "bad.asf", 1)), ContainsSubstring("not a number"));
  }
  SECTION("too few fields") {
    CHECK_THAT(PARSE_ERROR(parse_asf("1\n0 4 0.5 0.5 0 0\nx.jpg\n", "bad.asf", 1)),
               ContainsSubstring("bad.asf:2: expected point line 1 of 1 '<path#> <type> <x rel> <y rel> <point#> <from> <to> [<user1> <user2> <user3>]', got '0 4 0.5 0.5 0 0'"));
    CHECK_THAT(PARSE_ERROR(parse_asf("1\n0 4 0.5 0.5 0 0 0 0 0\nx.jpg\n", "bad.asf", 1)), ContainsSubstring("bad.asf:2: expected point line 1 of 1"));
    CHECK_THAT(PARSE_ERROR(parse_asf("1\n0 4 0.5 0.5 0 0 0 0 0 zero\nx.jpg\n", "bad.asf", 1)),
               ContainsSubstring("bad.asf:2: expected <user3> (a number), got 'zero'"));
  }
  SECTION("connection out of range") {
    CHECK_THAT(PARSE_ERROR(parse_asf("1\n0 4 0.5 0.5 0 0 7\nx.jpg\n", "bad.asf", 1)),
               ContainsSubstring("bad.asf:2: expected <connects to> (a point index)"));
  }
  SECTION("missing host image") {
    CHECK_THAT(PARSE_ERROR(parse_asf("1\n0 4 0.5 0.5 0 0 0\n\n# host image\n", "bad.asf", 1)),
               ContainsSubstring("bad.asf:5: expected the host image file name after 1 points, got end of file"));
  }
  SECTION("content after the host image") {
    CHECK_THAT(PARSE_ERROR(parse_asf("1\n0 4 0.5 0.5 0 0 0\nx.jpg\nmore\n", "bad.asf", 1)),
               ContainsSubstring("bad.asf:4: expected end of file after the host image name, got 'more'"));
  }
  SECTION("missing file names the file") {
    const std::string err = PARSE_ERROR(read_asf(kFixtures + "no_such_file.asf"));
    CHECK_THAT(err, StartsWith(kFixtures + "no_such_file.asf: cannot open file"));
    // A directory is not mistaken for an empty file.
    CHECK_THAT(PARSE_ERROR(read_asf(kFixtures)), StartsWith(kFixtures + ": cannot"));
  }
}

// ---------------------------------------------------------------- .pts

TEST_CASE("pts: parses the CRLF fixture and converts to 0-based pixels", "[formats][pts]") {
  const auto p = read_pts(kFixtures + "small3_crlf.pts");
  REQUIRE(p.size() == 3);
  CHECK(p[0].x == 10.5f);
  CHECK(p[0].y == 20.25f);
  CHECK(p[1].x == 100.0f);
  CHECK(p[1].y == 200.0f);
  CHECK(p[2].x == 0.0f);
  CHECK(p[2].y == 0.0f);
  CHECK(read_pts(kFixtures + "small3_crlf.pts", 3).size() == 3);
  CHECK_THAT(PARSE_ERROR(read_pts(kFixtures + "small3_crlf.pts", 68)),
             ContainsSubstring("small3_crlf.pts:2: expected 68 points, file has 3"));
}

TEST_CASE("pts: 68 points, spacing variants", "[formats][pts]") {
  const auto p = parse_pts(make_pts(68), "image_0001.pts", 68);
  REQUIRE(p.size() == 68);
  CHECK(p[67].x == 67.5f);
  CHECK(p[67].y == 135.0f);
  // Trailing spaces on every line (image_0492.pts), tabs, blank lines, a final newline.
  CHECK(parse_pts("version:1\n\nn_points:\t2\n{ \n 1 2 \n3\t4 \n} \n\n", "x.pts").size() == 2);
}

TEST_CASE("pts: malformed files", "[formats][pts]") {
  SECTION("empty file") {
    CHECK_THAT(PARSE_ERROR(parse_pts("", "image_0001.pts")),
               ContainsSubstring("image_0001.pts:1: expected 'version: 1', got an empty file"));
  }
  SECTION("wrong header keys") {
    CHECK(PARSE_ERROR(parse_pts("version: 1\nn_pts 68\n{\n}", "image_0001.pts")) ==
          "image_0001.pts:2: expected 'n_points: <count>', got 'n_pts 68'");
    CHECK_THAT(PARSE_ERROR(parse_pts("n_points: 68\n", "image_0001.pts")),
               ContainsSubstring("image_0001.pts:1: expected 'version: 1', got 'n_points: 68'"));
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 2\nn_points: 1\n{\n1 1\n}", "a.pts")), ContainsSubstring("a.pts:1:"));
  }
  SECTION("wrong count") {
    CHECK(PARSE_ERROR(parse_pts(make_pts(67), "image_0001.pts", 68)) ==
          "image_0001.pts:2: expected 68 points, file has 67");
  }
  SECTION("count not a number, zero, negative or huge") {
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: many\n", "a.pts")),
               ContainsSubstring("a.pts:2: expected 'n_points: <count>' with a count, got 'many'"));
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: 0\n", "a.pts")), ContainsSubstring("a.pts:2:"));
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: -5\n", "a.pts")), ContainsSubstring("a.pts:2:"));
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: 2000000000\n", "a.pts")), ContainsSubstring("allowed 1..10000"));
  }
  SECTION("missing opening brace") {
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: 1\n1 2\n}", "a.pts")), ContainsSubstring("a.pts:3: expected '{', got '1 2'"));
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: 1\n", "a.pts")), ContainsSubstring("a.pts:3: expected '{', got end of file"));
  }
  SECTION("closing brace too early (fixture file)") {
    const std::string err = PARSE_ERROR(read_pts(kFixtures + "truncated.pts"));
    CHECK_THAT(err, StartsWith(kFixtures + "truncated.pts:6: expected point 3 of 3 ('x y'), got '}'"));
    CHECK_THAT(err, ContainsSubstring("the file has 2"));
  }
  SECTION("truncated inside the points") {
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: 3\n{\n1 2\n3 4\n", "a.pts")),
               ContainsSubstring("a.pts:6: expected point 3 of 3 ('x y'), got end of file"));
  }
  SECTION("missing closing brace") {
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: 1\n{\n1 2\n", "a.pts")),
               ContainsSubstring("a.pts:5: expected '}' after 1 points, got end of file"));
  }
  SECTION("more points than n_points") {
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: 1\n{\n1 2\n3 4\n}", "a.pts")),
               ContainsSubstring("a.pts:5: expected '}' after 1 points, got '3 4' (more points than n_points says)"));
  }
  SECTION("bad numbers and fields") {
    auto one = [](const std::string& line) { return "version: 1\nn_points: 1\n{\n" + line + "\n}"; };
    CHECK_THAT(PARSE_ERROR(parse_pts(one("1 abc"), "a.pts")), ContainsSubstring("a.pts:4: expected y of point 1 of 1 ('x y'), got 'abc' (not a number)"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("NaN 1"), "a.pts")), ContainsSubstring("a.pts:4:"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("NaN 1"), "a.pts")), ContainsSubstring("not a finite number"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("inf 1"), "a.pts")), ContainsSubstring("not a finite number"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("1 1e300"), "a.pts")), ContainsSubstring("out of range"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("1 1e999"), "a.pts")), ContainsSubstring("a.pts:4:"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("20000000 1"), "a.pts")), ContainsSubstring("out of range"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("1.5.5 1"), "a.pts")), ContainsSubstring("trailing characters"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("1,5 1"), "a.pts")), ContainsSubstring("a.pts:4:"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("1 2 3"), "a.pts")), ContainsSubstring("a.pts:4: expected point 1 of 1 ('x y'), got '1 2 3'"));
    CHECK_THAT(PARSE_ERROR(parse_pts(one("1"), "a.pts")), ContainsSubstring("a.pts:4:"));
  }
  SECTION("content after the closing brace") {
    CHECK_THAT(PARSE_ERROR(parse_pts("version: 1\nn_points: 1\n{\n1 2\n}\n}\n", "a.pts")),
               ContainsSubstring("a.pts:6: expected end of file after '}', got '}'"));
  }
  SECTION("binary garbage is quoted safely") {
    const std::string err = PARSE_ERROR(parse_pts(std::string("\x01\x02\x7f garbage\0zz", 14), "a.pts"));
    CHECK_THAT(err, ContainsSubstring("a.pts:1: expected 'version: 1', got '???"));
  }
  SECTION("missing file names the file") {
    CHECK_THAT(PARSE_ERROR(read_pts(kFixtures + "missing.pts", 68)), StartsWith(kFixtures + "missing.pts: cannot open file"));
  }
}

// ---------------------------------------------------------------- dlib XML

TEST_CASE("dlib xml: parses the synthetic fixture", "[formats][dlib]") {
  const DlibDataset d = read_dlib_xml(kFixtures + "small.xml");
  REQUIRE(d.images.size() == 2);
  const DlibImage& a = d.images[0];
  CHECK(a.file == "faces/a & b.png");
  REQUIRE(a.width.has_value());
  REQUIRE(a.height.has_value());
  CHECK(*a.width == 200);
  CHECK(*a.height == 100);
  CHECK(a.line == 8);
  REQUIRE(a.boxes.size() == 1);
  const DlibBox& box = a.boxes[0];
  CHECK(box.top == 10.0f);
  CHECK(box.left == 20.0f);
  CHECK(box.width == 50.0f);
  CHECK(box.height == 60.0f);
  CHECK_FALSE(box.ignore);
  CHECK(box.line == 9);
  REQUIRE(box.parts.size() == 3);
  CHECK(box.parts[0].index == 0);  // sorted by index though written 01, 00, 02
  CHECK(box.parts[0].point.x == 25.0f);
  CHECK(box.parts[1].index == 1);
  CHECK(box.parts[2].point.x == 35.5f);
  CHECK(box.parts[2].point.y == 45.0f);

  const auto dense = dense_points(box, 3, "small.xml");
  REQUIRE(dense.size() == 3);
  CHECK(dense[1].y == 40.0f);
  CHECK_THAT(PARSE_ERROR(dense_points(box, 4, "small.xml")), ContainsSubstring("small.xml:9: expected 4 parts"));
  CHECK_THAT(PARSE_ERROR(dense_points(box, 2, "small.xml")), ContainsSubstring("small.xml:9: expected 2 parts in '<box>', got 3"));

  const DlibImage& b = d.images[1];
  CHECK(b.file == "faces/second.jpg");  // double quotes
  CHECK_FALSE(b.width.has_value());
  CHECK_FALSE(b.height.has_value());
  REQUIRE(b.boxes.size() == 2);
  CHECK(b.boxes[0].ignore);
  CHECK(b.boxes[0].top == -3.0f);
  CHECK(b.boxes[0].parts.empty());
  CHECK(b.boxes[1].height == 4.0f);  // self-closing box

  // Part indices beyond the schema are rejected when num_points is given.
  CHECK_THAT(PARSE_ERROR(read_dlib_xml(kFixtures + "small.xml", 2)), ContainsSubstring("small.xml:12: expected a part index 0..1"));
}

TEST_CASE("dlib xml: malformed files", "[formats][dlib]") {
  // A valid document around one part line, for the attribute-level cases.
  auto doc = [](const std::string& part) {
    return "<dataset>\n<images>\n<image file='x.png'>\n<box top='1' left='2' width='3' height='4'>\n" + part +
           "\n</box>\n</image>\n</images>\n</dataset>\n";
  };
  REQUIRE(parse_dlib_xml(doc("<part name='00' x='1' y='2'/>"), "a.xml").images.size() == 1);

  SECTION("empty file") {
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("", "a.xml")), ContainsSubstring("a.xml:1: expected the root element '<dataset>', got end of file"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("just text\n", "a.xml")), ContainsSubstring("a.xml:2: expected the root element '<dataset>'"));
  }
  SECTION("wrong root, content after the root") {
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<?xml version='1.0'?>\n<data/>", "a.xml")),
               ContainsSubstring("a.xml:2: expected the root element '<dataset>', got '<data>'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset/>\n<dataset/>", "a.xml")), ContainsSubstring("a.xml:2: expected end of file after '</dataset>'"));
  }
  SECTION("truncated: missing closing tags") {
    std::string text = doc("<part name='00' x='1' y='2'/>");
    text = text.substr(0, text.find("</box>"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(text, "a.xml")),
               ContainsSubstring("a.xml:6: expected '</box>' (opened at line 4), got end of file"));
  }
  SECTION("truncated inside a tag") {
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset>\n<images>\n<image file='x.png'\n", "a.xml")),
               ContainsSubstring("a.xml:3: unterminated tag '<image'"));
  }
  SECTION("mismatched closing tag") {
    std::string text = doc("<part name='00' x='1' y='2'/>");
    text.replace(text.find("</box>"), 6, "</image>");
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(text, "a.xml")),
               ContainsSubstring("a.xml:6: expected '</box>' (opened at line 4), got '</image>'"));
  }
  SECTION("known elements in the wrong place") {
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset><images><box top='1' left='1' width='1' height='1'/></images></dataset>", "a.xml")),
               ContainsSubstring("a.xml:1: expected '<box>' inside '<image>', found it inside '<images>'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset>\n<image file='x'/></dataset>", "a.xml")), ContainsSubstring("a.xml:2:"));
  }
  SECTION("duplicate part") {
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='07' x='1' y='2'/>\n<part name='7' x='1' y='2'/>"), "a.xml")),
               ContainsSubstring("a.xml:6: duplicate part '7' in this box (first at line 5)"));
  }
  SECTION("the same index in two boxes is fine") {
    const std::string two = "<dataset><images><image file='x'>\n<box top='1' left='1' width='1' height='1'><part name='0' x='1' y='1'/></box>\n"
                            "<box top='1' left='1' width='1' height='1'><part name='0' x='1' y='1'/></box></image></images></dataset>";
    CHECK(parse_dlib_xml(two, "a.xml").images[0].boxes.size() == 2);
  }
  SECTION("bad part names and numbers") {
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='nose' x='1' y='2'/>"), "a.xml")),
               ContainsSubstring("a.xml:5: expected a part index 0..9999 in 'name' of '<part>', got 'nose'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='-1' x='1' y='2'/>"), "a.xml")), ContainsSubstring("a.xml:5:"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00' x='abc' y='2'/>"), "a.xml")),
               ContainsSubstring("a.xml:5: expected a number for 'x' of '<part>', got 'abc' (not a number)"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00' x='1' y='nan'/>"), "a.xml")), ContainsSubstring("not a finite number"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00' x='1e20' y='2'/>"), "a.xml")), ContainsSubstring("out of range"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00' x='12px' y='2'/>"), "a.xml")), ContainsSubstring("trailing characters"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00' x='' y='2'/>"), "a.xml")), ContainsSubstring("empty field"));
  }
  SECTION("missing and duplicate attributes") {
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00' y='2'/>"), "a.xml")),
               ContainsSubstring("a.xml:5: expected attribute 'x' on '<part>', it is missing"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00' x='1' x='1' y='2'/>"), "a.xml")),
               ContainsSubstring("a.xml:5: duplicate attribute 'x' in '<part'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset><images><image width='3'/></images></dataset>", "a.xml")),
               ContainsSubstring("expected attribute 'file' on '<image>'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset><images><image file='a' width='0'/></images></dataset>", "a.xml")),
               ContainsSubstring("a positive integer for 'width'"));
  }
  SECTION("tokenizer errors") {
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset>\n<!-- never closed\n", "a.xml")),
               ContainsSubstring("a.xml:2: unterminated comment: expected '-->'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00 x='1' y='2'/>"), "a.xml")), ContainsSubstring("a.xml:5:"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name=00 x='1' y='2'/>"), "a.xml")),
               ContainsSubstring("a.xml:5: expected a quoted value for attribute 'name'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml(doc("<part name='00'x='1' y='2'/>"), "a.xml")), ContainsSubstring("a.xml:5: expected whitespace"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset><images><image file='a&nbsp;b'/></images></dataset>", "a.xml")),
               ContainsSubstring("unknown entity '&nbsp;'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset>\n</>", "a.xml")), ContainsSubstring("a.xml:2: expected an element name after '</'"));
    CHECK_THAT(PARSE_ERROR(parse_dlib_xml("<dataset>\n< images>", "a.xml")), ContainsSubstring("a.xml:2: expected an element name after '<'"));
  }
  SECTION("character references and unknown content are handled") {
    const auto d = parse_dlib_xml(
        "<!DOCTYPE dataset [<!ELEMENT dataset ANY>]>\n<dataset><images><image file='a&#65;&#x42;.png' x:y='z'>"
        "<![CDATA[<box>]]><unknown><deeper/></unknown></image></images></dataset>",
        "a.xml");
    REQUIRE(d.images.size() == 1);
    CHECK(d.images[0].file == "aAB.png");
    CHECK(d.images[0].boxes.empty());
  }
  SECTION("missing file names the file") {
    CHECK_THAT(PARSE_ERROR(read_dlib_xml(kFixtures + "missing.xml")), StartsWith(kFixtures + "missing.xml: cannot open file"));
  }
}

// ---------------------------------------------------------------- box CSV

TEST_CASE("box csv: parses the synthetic fixture", "[formats][csv]") {
  const BoxCsv csv = read_box_csv(kFixtures + "boxes.csv");
  REQUIRE(csv.size() == 3);
  REQUIRE(csv.columns().size() == 14);
  CHECK(csv.columns()[0] == "width");
  CHECK(csv.column_index("dan_x1") == 2);
  CHECK(csv.column_index("nope") == -1);
  CHECK(csv.rows()[2].file == "faces/c, with comma.png");
  CHECK(csv.rows()[2].line == 4);
  CHECK(csv.find("faces/zzz.png") == nullptr);
  REQUIRE(csv.find("faces/b.jpg") != nullptr);

  CHECK(csv.value("faces/a.png", "width") == 200.0f);
  CHECK(csv.value("faces/a.png", "dan_y1") == 20.25f);
  CHECK_FALSE(csv.value("faces/a.png", "dlib_left").has_value());

  const auto dan = csv.box("faces/a.png", "dan");
  REQUIRE(dan.has_value());
  CHECK(dan->x1 == 10.5f);
  CHECK(dan->y1 == 20.25f);
  CHECK(dan->x2 == 110.5f);
  CHECK(dan->y2 == 90.0f);
  const auto dlib = csv.box("faces/b.jpg", "dlib");  // left/top/width/height: a pixel rectangle
  REQUIRE(dlib.has_value());
  CHECK(dlib->x1 == 99.5f);
  CHECK(dlib->y1 == 109.5f);
  CHECK(dlib->x2 == 249.5f);
  CHECK(dlib->y2 == 259.5f);
  const Box same = box_from_pixel_rect(100, 110, 150, 150);  // the XML <box> of the same rectangle
  CHECK(same.x == dlib->x1);
  CHECK(same.x + same.w == dlib->x2);
  CHECK_FALSE(csv.box("faces/a.png", "dlib").has_value());
  CHECK_FALSE(csv.box("faces/c, with comma.png", "lm").has_value());
  CHECK(csv.box("faces/c, with comma.png", "dan")->x2 == 63.0f);

  CHECK_THAT(PARSE_ERROR(csv.box("faces/a.png", "mtcnn")), ContainsSubstring("boxes.csv: no box columns for prefix 'mtcnn'"));
  CHECK_THAT(PARSE_ERROR(csv.box("faces/zzz.png", "dan")), ContainsSubstring("boxes.csv: no row for file 'faces/zzz.png'"));
  CHECK_THAT(PARSE_ERROR(csv.value("faces/a.png", "nope")), ContainsSubstring("boxes.csv: no column 'nope'"));
}

TEST_CASE("box csv: malformed files", "[formats][csv]") {
  const std::string header = "file,width,height,dan_x1,dan_y1,dan_x2,dan_y2\n";
  SECTION("empty file") {
    CHECK_THAT(PARSE_ERROR(parse_box_csv("", "b.csv")), ContainsSubstring("b.csv:1: expected a header row with a 'file' column, got an empty file"));
  }
  SECTION("no header row") {
    CHECK_THAT(PARSE_ERROR(parse_box_csv("a.png,1,2,3,4,5,6\n", "b.csv")),
               ContainsSubstring("b.csv:1: expected a header row with a 'file' column, got 'a.png,1,2,3,4,5,6'"));
  }
  SECTION("duplicate or empty column names") {
    CHECK_THAT(PARSE_ERROR(parse_box_csv("file,x,x\n", "b.csv")), ContainsSubstring("b.csv:1: duplicate column 'x'"));
    CHECK_THAT(PARSE_ERROR(parse_box_csv("file,,x\n", "b.csv")), ContainsSubstring("b.csv:1: expected a column name in header cell 2"));
  }
  SECTION("header only is an empty table") { CHECK(parse_box_csv(header, "b.csv").size() == 0); }
  SECTION("wrong cell count (truncated row)") {
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + "a.png,1,2,3,4,5,6\nb.png,1,2,3", "b.csv")),
               ContainsSubstring("b.csv:3: expected 7 cells (as in the header), got 4"));
  }
  SECTION("bad numbers") {
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + "a.png,1,2,x,4,5,6\n", "b.csv")),
               ContainsSubstring("b.csv:2: expected a number or an empty cell in column 'dan_x1', got 'x' (not a number)"));
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + "a.png,1,2,nan,4,5,6\n", "b.csv")), ContainsSubstring("not a finite number"));
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + "a.png,1,2,1e8,4,5,6\n", "b.csv")), ContainsSubstring("out of range"));
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + "a.png,1,2,3 4,4,5,6\n", "b.csv")), ContainsSubstring("b.csv:2:"));
  }
  SECTION("duplicate file or empty file name") {
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + "a.png,1,2,3,4,5,6\n\na.png,1,2,3,4,5,6\n", "b.csv")),
               ContainsSubstring("b.csv:4: duplicate row for file 'a.png' (first at line 2)"));
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + ",1,2,3,4,5,6\n", "b.csv")), ContainsSubstring("b.csv:2: expected a file name"));
  }
  SECTION("quoting errors") {
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + "\"a.png,1,2,3,4,5,6\n", "b.csv")), ContainsSubstring("b.csv:2: expected a closing '\"'"));
    CHECK_THAT(PARSE_ERROR(parse_box_csv(header + "\"a\"x,1,2,3,4,5,6\n", "b.csv")), ContainsSubstring("b.csv:2: expected ',' after a quoted cell"));
  }
  SECTION("partly empty and inverted boxes") {
    const BoxCsv csv = parse_box_csv(header + "a.png,1,2,3,,5,6\r\nb.png,1,2,5,5,3,6\r\nc.png,1,2,3,5,3,6\r\n", "b.csv");
    CHECK_THAT(PARSE_ERROR(csv.box("a.png", "dan")), ContainsSubstring("b.csv:2: box 'dan' of 'a.png' is partly empty (3 of 4 cells filled)"));
    CHECK_THAT(PARSE_ERROR(csv.box("b.png", "dan")), ContainsSubstring("b.csv:3: box 'dan' of 'b.png' has zero or negative width or height"));
    CHECK_THAT(PARSE_ERROR(csv.box("c.png", "dan")), ContainsSubstring("b.csv:4: box 'dan' of 'c.png' has zero or negative width or height"));
  }
  SECTION("missing file names the file") {
    CHECK_THAT(PARSE_ERROR(read_box_csv(kFixtures + "missing.csv")), StartsWith(kFixtures + "missing.csv: cannot open file"));
  }
}
