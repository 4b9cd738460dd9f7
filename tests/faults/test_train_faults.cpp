// `facekeys train` under faults, as a real process: killed at random moments
// (inside epochs, while a checkpoint is being written) and resumed, and a run
// folder whose disk fills up.
#include <sys/mount.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "train/checkpoint.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "support/cli_runs.hpp"

#include "support/catch.hpp"

using namespace facekeys;
using namespace facekeys::testing;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> train_args(const std::string& pack, const std::string& out, int epochs) {
  return {FACEKEYS_EXE, "train", "--pack", pack, "--model", "SimpleModel", "--batch", "8", "--epochs",
          std::to_string(epochs), "--device", "cpu", "--seed", "5", "--ema", "0.9", "-o", out};
}

// Each epoch's losses, as written: two runs that trained alike log them alike to the last digit.
std::vector<std::string> loss_history(const std::string& run) {
  std::vector<std::string> rows;
  std::istringstream in(read_file_text(run + "/metrics.jsonl"));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const Json row = Json::parse(line);
    rows.push_back(row.at("train_loss").dump() + " " + row.at("val_loss").dump());
  }
  return rows;
}

bool has_temporary_file(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("train killed at random moments and resumed ends as an uninterrupted run, bit for bit", "[faults][slow]") {
  const std::string dir = fresh_temp_dir("facekeys_test_faults_kill");
  const std::string pack = synthetic_pack(dir, 16, 4, 80, 60);  // 2 steps an epoch
  const int epochs = 30;
  {
    Child whole(train_args(pack, dir + "/whole", epochs), {}, dir + "/whole.log");
    REQUIRE(whole.wait() == 0);
  }

  const std::string run = dir + "/killed";
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> delay_ms(100, 1500);
  int kills = 0, kills_in_writes = 0;
  // Ten starts killed (or finishing first), then one left to finish.
  for (int attempt = 0; attempt <= 10; ++attempt) {
    auto args = train_args(pack, run, epochs);
    if (fs::exists(run + "/last.safetensors")) {
      args.push_back("--resume");
      args.push_back(run + "/last.safetensors");
    }
    Child c(args, {}, dir + "/attempt" + std::to_string(attempt) + ".log");
    bool in_write = false;
    if (attempt == 10) {
      const int code = c.wait();
      INFO(c.output());
      REQUIRE(code == 0);
      break;
    }
    if (attempt % 2 == 1) {
      // Every other time: the moment a checkpoint or the history is being written.
      in_write = wait_until([&] { return has_temporary_file(run); }, std::chrono::seconds(30));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
    }
    ::kill(c.pid, SIGKILL);  // it may have finished meanwhile
    const int code = c.wait();
    if (code == 0) break;
    INFO(c.output());
    REQUIRE(code == 128 + SIGKILL);
    ++kills;
    kills_in_writes += in_write;
    // Whatever the moment, the resume point is whole (or not written yet).
    if (fs::exists(run + "/last.safetensors")) CHECK_NOTHROW(load_checkpoint(run + "/last.safetensors"));
  }
  INFO(kills << " kills, " << kills_in_writes << " of them during a write");
  CHECK(kills >= 3);
  CHECK(kills_in_writes >= 1);
  REQUIRE(load_checkpoint(run + "/last.safetensors").epoch == epochs);
  CHECK(weight_difference(dir + "/whole/last.safetensors", run + "/last.safetensors") == 0.0);
  CHECK(weight_difference(dir + "/whole/ema.safetensors", run + "/ema.safetensors") == 0.0);
  CHECK(weight_difference(dir + "/whole/best.safetensors", run + "/best.safetensors") == 0.0);
  CHECK(loss_history(run) == loss_history(dir + "/whole"));  // no finished epoch lost or logged twice
  CHECK_FALSE(has_temporary_file(run));
  fs::remove_all(dir);
}

TEST_CASE("a full disk stops training with a clear error and keeps the last checkpoint", "[faults][slow]") {
  const std::string dir = fresh_temp_dir("facekeys_test_faults_disk");
  const std::string pack = synthetic_pack(dir, 16, 4, 80, 60);
  const std::string disk = dir + "/disk";
  fs::create_directories(disk);
  // A small file system of its own (as root, which CI is).
  REQUIRE(::mount("tmpfs", disk.c_str(), "tmpfs", 0, "size=8m") == 0);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{disk};

  const std::string run = disk + "/run";
  Child c(train_args(pack, run, 200), {}, dir + "/train.log");
  REQUIRE(wait_until([&] { return fs::exists(run + "/last.safetensors"); }));
  // Fill what is left of the disk.
  {
    std::ofstream filler(disk + "/filler", std::ios::binary);
    const std::vector<char> block(1 << 20, 'x');
    while (filler.write(block.data(), block.size())) {
    }
  }
  const int code = c.wait();
  const std::string out = c.output();
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find("No space left on device") != std::string::npos);
  CHECK(out.find(run + "/") != std::string::npos);  // names the file it could not write
  // The previous checkpoint is whole, and resumable.
  const Checkpoint last = load_checkpoint(run + "/last.safetensors");
  CHECK(last.epoch >= 1);
  CHECK_FALSE(has_temporary_file(run));
  ::umount2(disk.c_str(), MNT_DETACH);
  fs::remove_all(dir);
}
