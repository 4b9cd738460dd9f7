// `facekeys bench`: training throughput, end to end against the model-only
// ceiling (eval/bench.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "eval/bench.hpp"

namespace facekeys {

void add_bench_command(CLI::App& app) {
  auto cfg = std::make_shared<BenchConfig>();
  auto* cmd = app.add_subcommand("bench", "Training throughput: end to end vs the model-only ceiling, one run");
  cmd->add_option("--model", cfg->model, "Architecture")->capture_default_str();
  cmd->add_option("--pack", cfg->pack_path, "Use this pack's training split (default: synthetic data)");
  cli::add_enum_option(cmd, "--device", cfg->device, "auto, cpu or cuda", {"auto", "cpu", "cuda"},
                       device_choice_from_name, device_choice_name);
  cmd->add_option("--batch", cfg->batch, "Batch size")->capture_default_str()->check(cli::positive());
  cmd->add_option("--steps", cfg->steps, "Timed steps per measurement")->capture_default_str()->check(cli::positive());
  cmd->add_option("--warmup", cfg->warmup_steps, "Untimed warm-up steps")->capture_default_str()->check(cli::non_negative());
  cmd->add_flag("!--no-augment", cfg->augment, "Measure without augmentation");
  cmd->add_flag("--bf16", cfg->bf16, "bf16 autocast on CUDA");
  add_distributed_options(cmd, cfg->dist_backend, cfg->dist_timeout_s);
  cmd->callback([cfg] {
    cfg->dist = dist_env_from_environment();
    Json r = benchmark_training(*cfg);
    if (cfg->dist.rank != 0) return;  // rank 0 speaks for the group
    if (r.contains("distributed")) {
      const Json& d = r.at("distributed");
      std::string per_rank;
      for (const Json& v : d.at("per_rank_img_s").as_array())
        per_rank += (per_rank.empty() ? "" : ", ") + std::to_string(static_cast<long>(v.as_number() + 0.5));
      std::fprintf(stderr,
                   "%d ranks (%s), batch %d per rank: %.1f img/s in all (per rank: %s), %.1f alone without "
                   "averaging: scaling efficiency %.3f; all-reduce %.2f ms a step for %.2f MB in %d bucket(s)\n",
                   static_cast<int>(d.at("world_size").as_number()), d.at("backend").as_string().c_str(), cfg->batch,
                   d.at("total_img_s").as_number(), per_rank.c_str(), d.at("total_alone_img_s").as_number(),
                   d.at("scaling_efficiency").as_number(), d.at("all_reduce_ms_per_step").as_number(),
                   d.at("all_reduce_bytes_per_step").as_number() / 1e6, static_cast<int>(d.at("buckets").as_number()));
    }
    std::fprintf(stderr,
                 "%s on %s, batch %d: model-only %.1f img/s, end-to-end %.1f img/s, ratio %.3f "
                 "(batches alone: %.0f img/s, made %s)\n",
                 cfg->model.c_str(), r.at("device").as_string().c_str(), cfg->batch,
                 r.at("model_only_img_s").as_number(), r.at("end_to_end_img_s").as_number(),
                 r.at("ratio").as_number(), r.at("batches_only_img_s").as_number(),
                 r.at("batches_in_background").as_bool() ? "on a worker thread" : "between steps");
    std::cout << r.dump() << std::endl;
  });
}

}  // namespace facekeys
