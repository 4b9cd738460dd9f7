// Running a program (the `facekeys` tool, make_test_video) through the shell
// from the tests that check what a user sees: the exit status, stdout and
// stderr, and JSON lines. (Tests that need extra environment variables or to
// kill a process use cli_runs.hpp's Child.)
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"

namespace facekeys::testing {

// `s` as one word of a POSIX shell command.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct RunResult {
  int status = -1;        // exit status; -1 when killed by a signal
  bool signaled = false;  // killed by a signal (a shell reports that as 128 + signal)
  std::string out, err;
};

// Runs `program ARGS`, its stdout and stderr captured in dir/TAG.out and dir/TAG.err.
inline RunResult run_program(const std::string& program, const std::vector<std::string>& args, const std::string& dir,
                             const std::string& tag) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  const std::string out = dir + "/" + tag + ".out", err = dir + "/" + tag + ".err";
  std::string cmd = shell_quote(program);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  cmd += " >" + shell_quote(out) + " 2>" + shell_quote(err);
  const int raw = std::system(cmd.c_str());
  RunResult r;
  if (WIFEXITED(raw)) r.status = WEXITSTATUS(raw);
  r.signaled = WIFSIGNALED(raw) || (WIFEXITED(raw) && WEXITSTATUS(raw) > 128);
  r.out = fs::exists(out) ? read_file_text(out) : "";
  r.err = fs::exists(err) ? read_file_text(err) : "";
  return r;
}

// The lines of `text` that hold JSON objects (lines starting with '{'), parsed;
// `name` is the parse error's prefix.
inline std::vector<Json> json_lines(const std::string& text, const std::string& name = "output") {
  std::vector<Json> v;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t e = text.find('\n', pos);
    if (e == std::string::npos) e = text.size();
    const std::string line = text.substr(pos, e - pos);
    if (!line.empty() && line[0] == '{') v.push_back(Json::parse(line, name));
    pos = e + 1;
  }
  return v;
}

}  // namespace facekeys::testing
