// Real `facekeys` processes for the tests that start them (distributed
// training, faults): spawn with extra environment variables, wait, read the
// log; and what those tests share: a synthetic pack, comparing checkpoints.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "train/checkpoint.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/pack.hpp"
#include "support/test_helpers.hpp"

extern char** environ;

namespace facekeys::testing {

// A pack (dir/synthetic.pack) of random w x h gray frames with 58 random
// points, IMM's: for tests that need real training arithmetic, not faces.
inline std::string synthetic_pack(const std::string& dir, int n_train, int n_val, int w = 240, int h = 180) {
  Pack p = imm58_pack_header(w, h, "synthetic (tests/support/cli_runs.hpp)");
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0.2f, 0.8f);
  for (int i = 0; i < n_train + n_val; ++i) {
    const ImageU8 img = random_u8(w, h, 1, rng);
    std::vector<float> pts(58 * 2);
    for (auto& v : pts) v = u(rng);
    p.add("img" + std::to_string(i), img.data(), pts, i, i < n_train ? Split::Train : Split::Val,
          {1, 0, 0, 0, 1, 0}, w, h);
  }
  const std::string path = dir + "/synthetic.pack";
  write_pack(path, p);
  return path;
}

// A child process with extra environment variables, stdout and stderr to `log`.
struct Child {
  pid_t pid = -1;
  std::string log;

  Child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env, std::string log_path)
      : log(std::move(log_path)) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
      const std::string kv(*e);
      if (!env.count(kv.substr(0, kv.find('=')))) env_strings.push_back(kv);
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp, args;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_copy = argv;
    for (auto& s : argv_copy) args.push_back(s.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(spawned));
  }

  // The exit status (128 + signal when killed).
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  std::string output() const { return read_file_text(log); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

// Waits (at most `limit`) until `done` holds; returns whether it does.
template <class Pred>
bool wait_until(Pred done, std::chrono::seconds limit = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return done();
}

// The largest relative difference, ||a - b|| / ||a||, over the tensors of two checkpoints.
inline double weight_difference(const std::string& a, const std::string& b) {
  Checkpoint ca = load_checkpoint(a), cb = load_checkpoint(b);
  const auto ta = named_tensors(*ca.model), tb = named_tensors(*cb.model);
  if (ta.size() != tb.size()) return INFINITY;
  double worst = 0;
  for (std::size_t i = 0; i < ta.size(); ++i) {
    if (!ta[i].second.is_floating_point()) continue;
    const double norm = ta[i].second.norm().item<double>();
    const double diff = (ta[i].second - tb[i].second).norm().item<double>();
    worst = std::max(worst, norm > 0 ? diff / norm : diff);
  }
  return worst;
}

}  // namespace facekeys::testing
