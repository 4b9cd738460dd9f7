// Data-parallel training on torch.distributed (docs/DISTRIBUTED.md): real
// `facekeys train` processes in a Gloo process group on 127.0.0.1, started by
// hand (the env:// variables set for each rank) and by torchrun.
#include "train/batch_stream.hpp"
#include "train/checkpoint.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"
#include "support/cli_runs.hpp"

#include "support/catch.hpp"

using namespace facekeys;
using namespace facekeys::testing;
namespace fs = std::filesystem;

namespace {

// A free TCP port on 127.0.0.1 for a rendezvous (tests may run side by side).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::vector<std::string> train_args(const std::string& pack, const std::string& out, int batch, int epochs) {
  return {FACEKEYS_EXE, "train",       "--pack",      pack,   "--model", "Baseline_7x7", "--batch",
          std::to_string(batch), "--epochs", std::to_string(epochs), "--device", "cpu", "--seed", "3",
          "--dist-timeout", "60", "-o", out};
}

// Each rank of a group started by hand: RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT, one thread each (as torchrun does).
std::map<std::string, std::string> rank_env(int rank, int world, int port) {
  return {{"RANK", std::to_string(rank)},          {"WORLD_SIZE", std::to_string(world)},
          {"LOCAL_RANK", std::to_string(rank)},    {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)},   {"OMP_NUM_THREADS", "1"}};
}

// Runs 2 ranks by hand with the given per-rank args; returns their exit codes.
std::vector<int> run_two_ranks(const std::vector<std::vector<std::string>>& args, const std::string& dir) {
  const int port = free_port();
  std::vector<std::unique_ptr<Child>> ranks;
  for (int r = 0; r < 2; ++r)
    ranks.push_back(std::make_unique<Child>(args[r], rank_env(r, 2, port), dir + "/rank" + std::to_string(r) + ".log"));
  std::vector<int> codes;
  for (int r = 0; r < 2; ++r) {
    codes.push_back(ranks[r]->wait());
    if (codes.back() != 0) UNSCOPED_INFO("rank " << r << ":\n" << ranks[r]->output());
  }
  return codes;
}

// Two ranks by hand, returned once rank 0 has logged an epoch: training is under way.
std::pair<std::unique_ptr<Child>, std::unique_ptr<Child>> two_ranks_training(const std::vector<std::string>& args,
                                                                               const std::string& dir) {
  const int port = free_port();
  auto rank0 = std::make_unique<Child>(args, rank_env(0, 2, port), dir + "/rank0.log");
  auto rank1 = std::make_unique<Child>(args, rank_env(1, 2, port), dir + "/rank1.log");
  REQUIRE(wait_until([&] { return fs::exists(dir + "/run/metrics.jsonl"); }));
  return {std::move(rank0), std::move(rank1)};
}

int run_alone(const std::vector<std::string>& args, const std::string& log) {
  Child c(args, {{"OMP_NUM_THREADS", "1"}}, log);
  const int code = c.wait();
  if (code != 0) UNSCOPED_INFO(c.output());
  return code;
}

}  // namespace

TEST_CASE("an epoch's rank slices are disjoint, of equal length and cover every row", "[dist]") {
  for (int world : {1, 2, 3, 4})
    for (int64_t n : {1, 5, 16, 37, 64})
      for (int64_t batch : {1, 3, 8}) {
        const BatchShare any{0, world};
        const int64_t steps = steps_per_epoch(n, batch, any);
        const auto order = torch::randperm(n, torch::kInt64);
        std::multiset<int64_t> seen;
        for (int64_t step = 0; step < steps; ++step)
          for (int r = 0; r < world; ++r) {
            const auto rows = epoch_rows(order, step, batch, {r, world});
            REQUIRE(rows.size(0) == batch);
            for (int64_t i = 0; i < batch; ++i) seen.insert(rows[i].item<int64_t>());
          }
        // Every row at least once; only the padding of the last global batch repeats.
        for (int64_t i = 0; i < n; ++i) REQUIRE(seen.count(i) >= 1);
        REQUIRE(static_cast<int64_t>(seen.size()) - n < batch * world);
        REQUIRE(static_cast<int64_t>(seen.size()) == steps * batch * world);
        if (n % (batch * world) == 0)
          for (int64_t i = 0; i < n; ++i) REQUIRE(seen.count(i) == 1);  // no padding: disjoint
      }
}

TEST_CASE("a step's batch is the same rows, augmented the same, whatever the number of ranks", "[dist]") {
  DeviceSplit split;
  split.images = torch::randint(0, 256, {20, 1, 12, 16}, torch::kUInt8);
  split.points = torch::rand({20, 3, 2});
  split.flip_permutation = torch::tensor({2, 1, 0}, torch::kInt64);
  ModelSpec spec;
  spec.input_w = 16;
  spec.input_h = 12;
  const Augmenter augment = augmenter_for(split, spec, AugmentConfig{});
  const auto order = torch::randperm(20, torch::kInt64);
  torch::manual_seed(11);
  const Batch whole = make_training_batch(split, epoch_rows(order, 1, 8, {0, 1}), augment, {0, 1});
  std::vector<Batch> halves;
  for (int r = 0; r < 2; ++r) {
    torch::manual_seed(11);  // every rank's generator is seeded alike
    halves.push_back(make_training_batch(split, epoch_rows(order, 1, 4, {r, 2}), augment, {r, 2}));
  }
  CHECK(torch::equal(torch::cat({halves[0].images, halves[1].images}), whole.images));
  CHECK(torch::equal(torch::cat({halves[0].points, halves[1].points}), whole.points));
}

// Two runs of the same global batch are equal up to the order of float
// additions (which sample's gradient is added first, in a conv's weight
// gradient or in the all-reduce). Those 1e-7 differences do not stay small:
// Adam divides each step by the root of its second moment, so a weight whose
// per-sample gradients nearly cancel takes a step of about +-lr whatever the
// sign the rounding gave it. Two runs of one process that differ only in their
// thread count (hence their summation order) drift apart the same way. So: one
// step is checked to float precision, and 20 steps against that drift.
TEST_CASE("2 ranks x batch 8 train as 1 rank x batch 16: one step to float precision", "[dist][slow]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_test_dist_step");
  const std::string pack = synthetic_pack(dir, 16, 4);  // one step an epoch
  REQUIRE(run_alone(train_args(pack, dir + "/one", 16, 1), dir + "/one.log") == 0);
  const auto codes = run_two_ranks({train_args(pack, dir + "/two", 8, 1), train_args(pack, dir + "/two", 8, 1)}, dir);
  REQUIRE(codes == std::vector<int>{0, 0});
  const double d = weight_difference(dir + "/one/last.safetensors", dir + "/two/last.safetensors");
  INFO("relative weight difference after one step " << d);
  CHECK(d < 1e-5);  // measured 1e-6; a slice or an average gone wrong is 1e-2 or more
  fs::remove_all(dir);
}

TEST_CASE("1 rank x batch 16 and 2 ranks x batch 8 end with the same weights after 20 steps", "[dist][slow]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_test_dist_equal");
  const std::string pack = synthetic_pack(dir, 32, 4);  // 2 steps an epoch: 20 steps in 10 epochs
  REQUIRE(run_alone(train_args(pack, dir + "/one", 16, 10), dir + "/one.log") == 0);
  // The drift of summation order alone: the same run on 2 threads.
  {
    Child two_threads(train_args(pack, dir + "/one-2t", 16, 10), {{"OMP_NUM_THREADS", "2"}}, dir + "/one-2t.log");
    REQUIRE(two_threads.wait() == 0);
  }
  const double drift = weight_difference(dir + "/one/last.safetensors", dir + "/one-2t/last.safetensors");
  const double bound = std::max(1e-4, 10 * drift);
  auto final_val_loss = [](const std::string& run) {
    std::istringstream rows(read_file_text(run + "/metrics.jsonl"));
    std::string line, last;
    while (std::getline(rows, line))
      if (!line.empty()) last = line;
    return Json::parse(last).at("val_loss").as_number();
  };
  const double val_one = final_val_loss(dir + "/one");
  const double val_bound = std::max(1e-3 * val_one, 10 * std::abs(final_val_loss(dir + "/one-2t") - val_one));

  SECTION("ranks started by hand, each writing where only rank 0 should") {
    // Rank 1 is pointed at a folder of its own: it must never make it.
    const auto codes = run_two_ranks({train_args(pack, dir + "/two", 8, 10), train_args(pack, dir + "/two-r1", 8, 10)}, dir);
    REQUIRE(codes == std::vector<int>{0, 0});
    CHECK_FALSE(fs::exists(dir + "/two-r1"));
    const double d = weight_difference(dir + "/one/last.safetensors", dir + "/two/last.safetensors");
    INFO("relative weight difference " << d << ", 1 vs 2 threads " << drift);
    CHECK(d < bound);
    CHECK(std::abs(final_val_loss(dir + "/two") - val_one) < val_bound);
    const Checkpoint ck = load_checkpoint(dir + "/two/last.safetensors");
    CHECK(ck.epoch == 10);
    CHECK(ck.metadata.at("world_size") == "2");
    const std::string two = read_file_text(dir + "/two/metrics.jsonl");
    CHECK(std::count(two.begin(), two.end(), '\n') == 10);  // logged once, by rank 0
  }

  SECTION("ranks started by torchrun") {
    const int port = free_port();
    std::vector<std::string> args = {"torchrun", "--no_python", "--redirects", "1", "--tee", "1",
                                     "--nproc_per_node", "2", "--master_port", std::to_string(port)};
    for (const auto& a : train_args(pack, dir + "/torchrun", 8, 10)) args.push_back(a);
    Child run(args, {}, dir + "/torchrun.log");
    const int code = run.wait();
    INFO(run.output());
    REQUIRE(code == 0);
    const double d = weight_difference(dir + "/one/last.safetensors", dir + "/torchrun/last.safetensors");
    INFO("relative weight difference " << d << ", 1 vs 2 threads " << drift);
    CHECK(d < bound);
    CHECK(std::abs(final_val_loss(dir + "/torchrun") - val_one) < val_bound);
    CHECK(run.output().find("process group: 2 ranks (gloo), batch 8 per rank, 16 in all") != std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("a process group resumes from a checkpoint as if never stopped", "[dist][slow]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_test_dist_resume");
  const std::string pack = synthetic_pack(dir, 16, 4);  // 1 step an epoch at 2 x 8
  auto args = [&](const std::string& out, int epochs) { return train_args(pack, dir + "/" + out, 8, epochs); };
  REQUIRE(run_two_ranks({args("whole", 6), args("whole", 6)}, dir) == std::vector<int>{0, 0});
  REQUIRE(run_two_ranks({args("parts", 3), args("parts", 3)}, dir) == std::vector<int>{0, 0});
  auto resumed = args("parts", 6);
  resumed.push_back("--resume");
  resumed.push_back(dir + "/parts/last.safetensors");
  REQUIRE(run_two_ranks({resumed, resumed}, dir) == std::vector<int>{0, 0});
  CHECK(load_checkpoint(dir + "/parts/last.safetensors").epoch == 6);
  CHECK(weight_difference(dir + "/whole/last.safetensors", dir + "/parts/last.safetensors") == 0.0);
  fs::remove_all(dir);
}

TEST_CASE("a rank that is killed stops the other with a clear error and no partial checkpoint", "[dist][slow]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_test_dist_kill");
  const std::string pack = synthetic_pack(dir, 64, 4);
  auto [rank0, rank1] = two_ranks_training(train_args(pack, dir + "/run", 8, 50), dir);
  ::kill(rank1->pid, SIGKILL);
  rank1->wait();
  const auto t0 = std::chrono::steady_clock::now();
  const int code = rank0->wait();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string out = rank0->output();
  INFO(out);
  CHECK(code == 1);
  CHECK(waited < 60);  // well before --dist-timeout: a closed connection is noticed at once
  CHECK(out.find("rank 0 of 2: a collective failed in epoch") != std::string::npos);
  CHECK(out.find("another rank stopped, crashed, or did not answer") != std::string::npos);
  // What rank 0 wrote is whole: the last checkpoint loads.
  CHECK(load_checkpoint(dir + "/run/last.safetensors").epoch >= 1);
  for (const auto& e : fs::directory_iterator(dir + "/run"))
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a rank that hangs stops the other after --dist-timeout", "[dist][slow]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_test_dist_hang");
  const std::string pack = synthetic_pack(dir, 64, 4);
  auto args = train_args(pack, dir + "/run", 8, 50);
  args[args.size() - 3] = "8";  // --dist-timeout 8
  auto [rank0, rank1] = two_ranks_training(args, dir);
  ::kill(rank1->pid, SIGSTOP);  // alive, connections open, silent
  const auto t0 = std::chrono::steady_clock::now();
  const int code = rank0->wait();
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::kill(rank1->pid, SIGKILL);
  const std::string out = rank0->output();
  INFO(out);
  CHECK(code == 1);
  CHECK(waited > 4);   // it did wait for the stopped rank
  CHECK(waited < 60);  // and gave up after the timeout, not never
  CHECK(out.find("did not answer within the process group's timeout, 8 s") != std::string::npos);
  fs::remove_all(dir);
}

// The worker processes of a torchrun whose command line names `marker`.
std::vector<pid_t> workers_naming(const std::string& marker) {
  std::vector<pid_t> pids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline;
    try {
      cmdline = read_file_text(e.path().string() + "/cmdline");
    } catch (const std::exception&) {
      continue;  // gone meanwhile
    }
    if (cmdline.find(marker) != std::string::npos && cmdline.find("torchrun") == std::string::npos &&
        cmdline.rfind(FACEKEYS_EXE, 0) == 0)
      pids.push_back(static_cast<pid_t>(std::stol(name)));
  }
  return pids;
}

TEST_CASE("torchrun --max_restarts restarts a group that lost a rank from its last checkpoint", "[dist][slow]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_test_dist_restart");
  const std::string pack = synthetic_pack(dir, 16, 4);  // one step an epoch
  const int port = free_port();
  std::vector<std::string> args = {"torchrun", "--no_python", "--redirects", "1", "--tee", "1",
                                   "--nproc_per_node", "2", "--max_restarts", "1", "--master_port",
                                   std::to_string(port)};
  for (const auto& a : train_args(pack, dir + "/run", 8, 8)) args.push_back(a);
  Child run(args, {}, dir + "/torchrun.log");
  // Once two epochs are logged, kill one worker: torchrun stops the other and starts both again.
  auto epochs_logged = [&] {
    std::error_code ec;
    if (!fs::exists(dir + "/run/metrics.jsonl", ec)) return 0L;
    const std::string m = read_file_text(dir + "/run/metrics.jsonl");
    return static_cast<long>(std::count(m.begin(), m.end(), '\n'));
  };
  REQUIRE(wait_until([&] { return epochs_logged() >= 2; }));
  const auto workers = workers_naming(dir + "/run");
  REQUIRE(workers.size() == 2u);
  ::kill(workers[0], SIGKILL);
  const int code = run.wait();
  const std::string out = run.output();
  INFO(out);
  REQUIRE(code == 0);
  CHECK(out.find("restart 1: resuming from " + dir + "/run/last.safetensors") != std::string::npos);
  CHECK(load_checkpoint(dir + "/run/last.safetensors").epoch == 8);
  // One history: the epochs after the checkpoint were trained again, not logged twice.
  const std::string m = read_file_text(dir + "/run/metrics.jsonl");
  CHECK(std::count(m.begin(), m.end(), '\n') == 8);
  fs::remove_all(dir);
}

TEST_CASE("a named backend joins a group of one rank", "[dist]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_test_dist_one");
  const std::string pack = synthetic_pack(dir, 4, 2);
  auto args = train_args(pack, dir + "/run", 4, 1);
  args.push_back("--dist-backend");
  args.push_back("gloo");
  Child c(args, rank_env(0, 1, free_port()), dir + "/log");
  const int code = c.wait();
  INFO(c.output());
  CHECK(code == 0);
  CHECK(c.output().find("process group: 1 ranks (gloo)") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a malformed process-group environment is named", "[dist]") {
  const std::string dir = testing::fresh_temp_dir("facekeys_test_dist_env");
  const std::string pack = synthetic_pack(dir, 4, 2);
  Child c(train_args(pack, dir + "/run", 2, 1), {{"WORLD_SIZE", "2"}, {"RANK", "5"}, {"MASTER_ADDR", "127.0.0.1"},
                                                 {"MASTER_PORT", "29999"}}, dir + "/log");
  CHECK(c.wait() == 1);
  CHECK(c.output().find("RANK='5' is not a whole number in [0, 1]") != std::string::npos);
  CHECK_FALSE(fs::exists(dir + "/run"));
  fs::remove_all(dir);
}
