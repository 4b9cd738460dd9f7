#include "facekeys/file_io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>
#if defined(__unix__) || defined(__APPLE__) || defined(__EMSCRIPTEN__)
#include <unistd.h>
#endif

namespace facekeys {
namespace {

[[noreturn]] void io_error(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

template <class Container>
Container read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) io_error(path, "cannot open for reading");
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0) io_error(path, "cannot determine size (not a regular file?)");
  in.seekg(0, std::ios::beg);
  Container out(static_cast<std::size_t>(size), 0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(&out[0]), size)) io_error(path, "read failed");
  return out;
}

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  return read_all<std::vector<std::uint8_t>>(path);
}

std::string read_file_text(const std::string& path) { return read_all<std::string>(path); }

void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  long pid = 0;
#if defined(__unix__) || defined(__APPLE__) || defined(__EMSCRIPTEN__)
  pid = static_cast<long>(::getpid());
#endif
  const std::string tmp = path + ".tmp-" + std::to_string(pid);
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) io_error(tmp, "cannot open for writing");
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
    io_error(path, "cannot rename temporary file into place");
  }
}

}  // namespace facekeys
