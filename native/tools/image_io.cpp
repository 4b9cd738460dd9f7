#include "tools/image_io.hpp"

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "facekeys/file_io.hpp"
#include "facekeys/image_header.hpp"
#include "tools/jpeg_check.hpp"

namespace facekeys {

ImageU8 load_image_rgb(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw std::runtime_error(path + ": a folder, not an image file");
  if (!std::filesystem::is_regular_file(path, ec)) throw std::runtime_error(path + ": no such image file");
  if (std::filesystem::file_size(path, ec) == 0) throw std::runtime_error(path + ": empty file, not an image");
  // Decoded from memory, after the JPEG data check (jpeg_check.hpp): OpenCV
  // draws damaged JPEG data with a warning only. IMREAD_COLOR applies EXIF
  // orientation and yields 8-bit BGR for gray, 16-bit and CMYK inputs alike.
  const std::vector<std::uint8_t> bytes = read_file_bytes(path);
  // A size the header claims is checked before OpenCV allocates for it (its
  // own limit ends in an assertion that names no file).
  if (const auto size = image_size(bytes.data(), bytes.size()))
    if (const std::string problem = image_size_problem(size->width, size->height); !problem.empty())
      throw std::runtime_error(path + ": " + problem);
  if (image_format(bytes.data(), bytes.size()) == ImageFormat::Jpeg) check_jpeg_data(bytes.data(), bytes.size(), path);
  cv::Mat bgr = cv::imdecode(bytes, cv::IMREAD_COLOR);
  if (bgr.empty()) throw std::runtime_error(path + ": cannot decode (corrupt or not an image OpenCV reads)");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  ImageU8 out(rgb.cols, rgb.rows, 3);
  for (int y = 0; y < rgb.rows; ++y) std::memcpy(out.row(y), rgb.ptr<std::uint8_t>(y), static_cast<std::size_t>(rgb.cols) * 3);
  return out;
}

void save_image(const std::string& path, ViewU8 image) {
  const int type = image.channels() == 1 ? CV_8UC1 : image.channels() == 3 ? CV_8UC3 : CV_8UC4;
  cv::Mat wrapped(image.height(), image.width(), type, const_cast<std::uint8_t*>(image.data()),
                  static_cast<std::size_t>(image.stride()));
  cv::Mat bgr;
  if (image.channels() == 3) cv::cvtColor(wrapped, bgr, cv::COLOR_RGB2BGR);
  else if (image.channels() == 4) cv::cvtColor(wrapped, bgr, cv::COLOR_RGBA2BGRA);
  else bgr = wrapped;
  if (const std::string why = image_output_problem(path); !why.empty()) throw std::runtime_error(path + ": " + why);
  std::vector<std::uint8_t> bytes;
  bool ok = false;
  try {
    ok = cv::imencode(std::filesystem::path(path).extension().string(), bgr, bytes);
  } catch (const cv::Exception& e) {
    throw std::runtime_error(path + ": cannot encode the image: " + e.msg);
  }
  if (!ok) throw std::runtime_error(path + ": cannot encode the image");
  write_file_atomic(path, bytes);
}

std::string image_output_problem(const std::string& path) {
  const std::string ext = extension_lower(path);
  for (const char* known : {".png", ".jpg", ".jpeg", ".webp", ".bmp"})
    if (ext == known) return "";
  return ext.empty() ? "no file extension: end the name in .png or .jpg"
                     : "'" + ext + "' is not an image type this writes (.png, .jpg, .webp, .bmp)";
}

}  // namespace facekeys
