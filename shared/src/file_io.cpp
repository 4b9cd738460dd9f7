#include "facekeys/file_io.hpp"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#if defined(__unix__) || defined(__APPLE__) || defined(__EMSCRIPTEN__)
#include <unistd.h>
#endif

namespace facekeys {
namespace {

[[noreturn]] void io_error(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what + " (" + std::strerror(errno) + ")");
}

template <class Container>
Container read_all(const std::string& path) {
  // A directory opens and reads as an empty file on some platforms (Emscripten's
  // NODERAWFS): reject anything but a regular file up front.
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    // The reason status() found (permission denied on a folder, ...), else "no such file".
    errno = ec ? ec.value() : ENOENT;
    io_error(path, "cannot open file");
  }
  if (!std::filesystem::is_regular_file(status)) throw std::runtime_error(path + ": cannot read: not a regular file");
  // stdio rather than ifstream: ferror reports read failures with errno.
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) io_error(path, "cannot open file");
  Container out;
  char buf[1 << 16];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + got);
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    errno = err;
    io_error(path, "cannot read file");
  }
  return out;
}

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  return read_all<std::vector<std::uint8_t>>(path);
}

std::string read_file_text(const std::string& path) { return read_all<std::string>(path); }

std::string extension_lower(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  long pid = 0;
#if defined(__unix__) || defined(__APPLE__) || defined(__EMSCRIPTEN__)
  pid = static_cast<long>(::getpid());
#endif
  const std::string tmp = path + ".tmp-" + std::to_string(pid);
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    // Named by the file the caller asked for: the temporary name would only confuse.
    if (!f) io_error(path, "cannot open for writing");
    bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
    ok = (std::fflush(f) == 0) && ok;
#if defined(__unix__) || defined(__APPLE__)
    ok = (::fsync(fileno(f)) == 0) && ok;
#endif
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) {
      int saved = errno;
      std::remove(tmp.c_str());
      errno = saved;
      io_error(path, "write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    std::remove(tmp.c_str());
    errno = saved;
    if (saved == EISDIR) io_error(path, "a folder has this name: give the name of a file to write");
    io_error(path, "cannot rename temporary file into place");
  }
}

}  // namespace facekeys
