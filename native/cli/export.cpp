// `facekeys export ...` runs `facekeys-export ...` (native/export/main.cpp), and
// `facekeys train --init DIR` runs it to read an exported model's weights.
//
// The exporter is its own executable because it links libonnx, which must not
// share a process with LibTorch (pip's LibTorch carries its own protobuf and
// ONNX symbols). It is looked up next to this binary first, then on PATH.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.hpp"

namespace facekeys {
namespace {

const char* const kExporterMissing =
    "facekeys-export (the ONNX tool behind `facekeys export` and `facekeys train --init DIR`) is not next to this "
    "binary nor on PATH (%s). It is built where libonnx is installed (apt-get install libonnx-dev); see "
    "docs/EXPORT.md.";

// facekeys-export beside /proc/self/exe when it is there, else the bare name (PATH lookup).
std::string exporter_program() {
  std::string self(4096, '\0');
  const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (n > 0) {
    self.resize(static_cast<std::size_t>(n));
    const std::string beside = self.substr(0, self.rfind('/') + 1) + "facekeys-export";
    if (access(beside.c_str(), X_OK) == 0) return beside;
  }
  return "facekeys-export";
}

std::string missing_message(int err) {
  std::string msg(1024, '\0');
  msg.resize(static_cast<std::size_t>(std::snprintf(msg.data(), msg.size(), kExporterMissing, std::strerror(err))));
  return msg;
}

}  // namespace

int forward_to_exporter(int argc, char** argv) {
  static char name[] = "facekeys-export";
  std::vector<char*> args = {name};
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);  // drop "facekeys export"
  args.push_back(nullptr);
  execvp(exporter_program().c_str(), args.data());
  std::fprintf(stderr, "facekeys: error: %s\n", missing_message(errno).c_str());
  return 1;
}

void run_exporter(const std::vector<std::string>& args) {
  const std::string program = exporter_program();
  std::vector<std::string> owned = {"facekeys-export"};
  owned.insert(owned.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  int pipe_fd[2];  // carries execvp's errno back when the exec fails
  if (pipe(pipe_fd) != 0) throw std::runtime_error(std::string("cannot run facekeys-export: ") + std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("cannot run facekeys-export: ") + std::strerror(errno));
  if (pid == 0) {
    close(pipe_fd[0]);
    fcntl(pipe_fd[1], F_SETFD, FD_CLOEXEC);
    execvp(program.c_str(), argv.data());
    const int err = errno;
    (void)!write(pipe_fd[1], &err, sizeof err);
    _exit(127);
  }
  close(pipe_fd[1]);
  int exec_errno = 0;
  const bool exec_failed = read(pipe_fd[0], &exec_errno, sizeof exec_errno) == sizeof exec_errno;
  close(pipe_fd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (exec_failed) throw std::runtime_error(missing_message(exec_errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("facekeys-export failed (its message is above)");
}

}  // namespace facekeys
