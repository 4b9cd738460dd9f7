// `facekeys export ...` runs `facekeys-export ...` (native/export/main.cpp).
//
// The exporter is its own executable because it links libonnx, which must not
// share a process with LibTorch (pip's LibTorch carries its own protobuf and
// ONNX symbols). It is looked up next to this binary first, then on PATH.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.hpp"

namespace facekeys {

int forward_to_exporter(int argc, char** argv) {
  std::vector<char*> args;
  static char name[] = "facekeys-export";
  args.push_back(name);
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);  // drop "facekeys export"
  args.push_back(nullptr);

  std::string self(4096, '\0');
  const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (n > 0) {
    self.resize(static_cast<std::size_t>(n));
    const std::string beside = self.substr(0, self.rfind('/') + 1) + "facekeys-export";
    if (access(beside.c_str(), X_OK) == 0) {
      execv(beside.c_str(), args.data());
      std::fprintf(stderr, "facekeys: error: cannot run %s: %s\n", beside.c_str(), std::strerror(errno));
      return 1;
    }
  }
  execvp("facekeys-export", args.data());
  std::fprintf(stderr,
               "facekeys: error: `facekeys export` runs facekeys-export, which is not next to this binary nor on "
               "PATH (%s). It is built where libonnx is installed (apt-get install libonnx-dev); see docs/EXPORT.md.\n",
               std::strerror(errno));
  return 1;
}

}  // namespace facekeys
