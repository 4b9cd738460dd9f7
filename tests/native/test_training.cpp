// End-to-end training on real IMM images: pack -> train -> checkpoint -> eval.
#include "eval/bench.hpp"
#include "train/checkpoint.hpp"
#include "eval/evaluate.hpp"
#include "eval/sweep.hpp"
#include "train/trainer.hpp"
#ifdef FACEKEYS_WITH_OPENCV
#include "tools/image_io.hpp"
#include "tools/pack_datasets.hpp"
#include "tools/report.hpp"
#endif

#include <cmath>
#include <filesystem>
#include <sstream>

#include "support/test_helpers.hpp"
#include "facekeys/file_io.hpp"
#include "facekeys/json.hpp"

#include "support/catch.hpp"

// The cases on IMM need its pack: made here with OpenCV, or, in a build without OpenCV, made
// elsewhere and named by FACEKEYS_TEST_IMM_PACK (tests/CMakeLists.txt; scripts/test-libtorch2.sh).
#if defined(FACEKEYS_WITH_OPENCV) || defined(FACEKEYS_TEST_IMM_PACK)
#define FACEKEYS_HAVE_IMM_PACK 1
#endif

using namespace facekeys;
namespace fs = std::filesystem;

namespace {

// A pack of the first `n_train` training and `n_val` validation images of a full pack.
// (This and the helpers below serve the cases that need OpenCV; a LibTorch-only build leaves them unused.)
[[maybe_unused]] Pack subset(const Pack& full, std::size_t n_train, std::size_t n_val) {
  Pack p;
  p.schema = full.schema;
  p.source = full.source;
  p.width = full.width;
  p.height = full.height;
  p.channels = full.channels;
  p.num_points = full.num_points;
  std::size_t t = 0, v = 0;
  for (std::size_t i = 0; i < full.size(); ++i) {
    const bool train = full.split[i] == 0;
    if ((train && t >= n_train) || (!train && v >= n_val)) continue;
    (train ? t : v)++;
    std::vector<float> pts(full.points.begin() + i * full.num_points * 2, full.points.begin() + (i + 1) * full.num_points * 2);
    std::array<double, 6> m;
    std::copy_n(full.image_to_pack.begin() + i * 6, 6, m.begin());
    p.add(full.names[i], &full.pixels[i * full.image_bytes()], pts, full.person[i], static_cast<Split>(full.split[i]), m,
          full.original_size[2 * i], full.original_size[2 * i + 1]);
  }
  return p;
}

[[maybe_unused]] std::string temp_dir(const std::string& name) {
  return testing::fresh_temp_dir("facekeys_test_" + name);
}

[[maybe_unused]] std::vector<Json> read_jsonl(const std::string& path) {
  std::vector<Json> rows;
  std::istringstream in(read_file_text(path));
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(Json::parse(line, path));
  return rows;
}

#ifdef FACEKEYS_HAVE_IMM_PACK
// Packs IMM once per test run; without OpenCV, reads the pack made elsewhere (FACEKEYS_TEST_IMM_PACK).
const Pack* imm_pack() {
  static const Pack* pack = [] {
#ifdef FACEKEYS_WITH_OPENCV
    const std::string dir = std::string(FACEKEYS_DATA_DIR) + "/imm_face_db";
    return fs::is_directory(dir) ? new Pack(pack_imm(dir, ImmPackOptions{})) : nullptr;
#else
    return new Pack(read_pack(FACEKEYS_TEST_IMM_PACK));
#endif
  }();
  return pack;
}

// A quiet CPU run of `model` on a pack of the first n_train/n_val images of `full`, written as dir/NAME.pack;
// the run folder is dir/NAME.
TrainConfig small_run(const Pack& full, const std::string& dir, const std::string& name, const std::string& model,
                      std::size_t n_train, std::size_t n_val) {
  TrainConfig cfg;
  cfg.pack_path = dir + "/" + name + ".pack";
  write_pack(cfg.pack_path, subset(full, n_train, n_val));
  cfg.model = model;
  cfg.out_dir = dir + "/" + name;
  cfg.device = DeviceChoice::Cpu;
  cfg.quiet = true;
  return cfg;
}
#endif

}  // namespace

#ifdef FACEKEYS_HAVE_IMM_PACK
TEST_CASE("IMM pack: 240 images, persons 1-32 train and 33-40 val", "[pack][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  CHECK(full->size() == 240);
  CHECK(full->count(Split::Train) == 192);
  CHECK(full->count(Split::Val) == 48);
  CHECK(full->width == 240);
  CHECK(full->height == 180);
  for (float v : full->points) {
    CHECK(v > 0.0f);
    CHECK(v < 1.0f);
  }
}

TEST_CASE("overfitting a few IMM images drives the loss down at least 10x", "[train][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("overfit");
  TrainConfig cfg = small_run(*full, dir, "small", "Baseline", 4, 2);
  const std::string pack_path = cfg.pack_path;
  cfg.epochs = 80;
  cfg.batch = 4;
  cfg.augment.enabled = false;
  TrainResult r = train(cfg);
  auto rows = read_jsonl(r.metrics_file);
  REQUIRE(rows.size() == 80);
  const double first = rows.front().at("train_loss").as_number();
  const double last = rows.back().at("train_loss").as_number();
  INFO("first epoch loss " << first << ", last " << last);
  CHECK(last * 10 <= first);
  CHECK(last < 2e-3);
  CHECK(fs::exists(r.best_checkpoint));
  CHECK(fs::exists(r.last_checkpoint));

  SECTION("eval reports every metric, finite") {
    Checkpoint ck = load_checkpoint(r.best_checkpoint);
    const Pack pack = read_pack(pack_path);
    Predictions p = predict_split(*ck.model, ck.spec, pack, pack_path, Split::Val, DeviceChoice::Cpu);
    Json m = metrics_json(p, pack);
    CHECK(m.at("split").as_string() == "val");
    CHECK(m.at("n").as_int() == 2);
    for (const char* key : {"mse", "seed_mae", "kaggle_mae", "mean_px_error", "nme", "fr_010", "auc_010"}) {
      INFO(key);
      CHECK(std::isfinite(m.at(key).as_number()));
    }
    // Original-pixel ground truth is back on the 640x480 frame.
    for (float v : p.gt_px) {
      CHECK(v >= 0.0f);
      CHECK(v < 640.0f);
    }
  }

  SECTION("resume continues from the last checkpoint") {
    TrainConfig more = cfg;
    more.epochs = 82;
    more.resume = r.last_checkpoint;
    TrainResult r2 = train(more);
    CHECK(r2.epochs_run == 2);
    CHECK(read_jsonl(r2.metrics_file).size() == 82);
    // The resumed run starts where the first stopped, not from scratch.
    CHECK(read_jsonl(r2.metrics_file).back().at("train_loss").as_number() < first / 10);
  }
  fs::remove_all(dir);
}

TEST_CASE("a resumed run trains the same epochs as an uninterrupted one, bit for bit", "[train][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("resume_exact");
  TrainConfig whole = small_run(*full, dir, "whole", "SimpleModel", 8, 2);
  whole.epochs = 3;
  whole.batch = 4;
  whole.seed = 5;  // augmentation on (the default): shuffling and augmentation must repeat
  const TrainResult a = train(whole);

  TrainConfig part = whole;
  part.out_dir = dir + "/part";
  part.epochs = 1;
  train(part);
  part.epochs = 3;
  part.resume = part.out_dir + "/last.safetensors";
  const TrainResult b = train(part);
  REQUIRE(b.epochs_run == 2);

  const auto rows_a = read_jsonl(a.metrics_file), rows_b = read_jsonl(b.metrics_file);
  REQUIRE(rows_a.size() == 3);
  REQUIRE(rows_b.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("epoch " << i + 1);
    CHECK(rows_a[i].at("train_loss").as_number() == rows_b[i].at("train_loss").as_number());
    CHECK(rows_a[i].at("val_loss").as_number() == rows_b[i].at("val_loss").as_number());
  }
  const Checkpoint ca = load_checkpoint(a.last_checkpoint), cb = load_checkpoint(b.last_checkpoint);
  const auto pa = ca.model->named_parameters(), pb = cb.model->named_parameters();
  REQUIRE(pa.size() == pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    INFO(pa[i].key());
    CHECK(torch::equal(pa[i].value(), pb[i].value()));
  }
  fs::remove_all(dir);
}

#ifdef FACEKEYS_WITH_OPENCV  // report draws with OpenCV
TEST_CASE("report draws a run and refuses inputs that are not of it", "[report][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("report");
  TrainConfig cfg = small_run(*full, dir, "run", "SimpleModel", 4, 2);
  cfg.epochs = 1;
  const TrainResult r = train(cfg);
  const Pack pack = read_pack(cfg.pack_path);
  Checkpoint ck = load_checkpoint(r.best_checkpoint);
  const std::string preds = dir + "/pred.json";
  write_file_atomic(preds, predictions_json(predict_split(*ck.model, ck.spec, pack, cfg.pack_path, Split::Val, DeviceChoice::Cpu),
                                            pack).dump());
  ReportConfig rc;
  rc.run_dir = cfg.out_dir;
  rc.pack_path = cfg.pack_path;
  rc.predictions_path = preds;
  rc.checkpoint_path = r.best_checkpoint;
  rc.overlays = 1;
  // A file of an earlier report that this one does not draw again goes; other files stay.
  write_file_atomic(cfg.out_dir + "/pred_best_7.png", std::string("old"));
  write_file_atomic(cfg.out_dir + "/notes.png", std::string("mine"));
  write_report(rc);
  for (const char* f : {"loss.png", "gt_0.png", "pred_best_0.png", "pred_worst_0.png", "filters_conv1.png", "report.md",
                        "notes.png"}) {
    INFO(f);
    CHECK(fs::exists(cfg.out_dir + "/" + f));
  }
  CHECK_FALSE(fs::exists(cfg.out_dir + "/pred_best_7.png"));
  const std::string report_md = read_file_text(cfg.out_dir + "/report.md");

  SECTION("predictions of another pack") {
    Pack other = pack;
    other.names[pack.size() - 1] = "somebody-else.jpg";  // the val rows come last
    rc.pack_path = dir + "/other.pack";
    write_pack(rc.pack_path, other);
    CHECK_THROWS_WITH(write_report(rc), Catch::Matchers::ContainsSubstring("pred.json") && Catch::Matchers::ContainsSubstring("is not that row of") &&
                                            Catch::Matchers::ContainsSubstring("other.pack"));
  }
  SECTION("predictions without the pack") {
    rc.pack_path.clear();
    CHECK_THROWS_WITH(write_report(rc), Catch::Matchers::ContainsSubstring("needs the pack they were made from"));
  }
  SECTION("a file that is not predictions") {
    write_file_atomic(dir + "/cfg.json", std::string("{\"model\": \"SimpleModel\"}"));
    rc.predictions_path = dir + "/cfg.json";
    CHECK_THROWS_WITH(write_report(rc), Catch::Matchers::ContainsSubstring("cfg.json: not a file from `facekeys eval --predictions`"));
  }
  SECTION("a checkpoint of another model") {
    const ModelSpec spec = model_spec("SimpleModelDeeper");
    rc.checkpoint_path = dir + "/deeper.safetensors";
    save_checkpoint(rc.checkpoint_path, spec, *make_model(spec), nullptr, 0, {});
    CHECK_THROWS_WITH(write_report(rc), Catch::Matchers::ContainsSubstring("a SimpleModelDeeper checkpoint, but") &&
                                            Catch::Matchers::ContainsSubstring("trained SimpleModel"));
  }
  SECTION("a folder with nothing to report") {
    ReportConfig empty;
    empty.run_dir = testing::fresh_temp_dir("facekeys_test_report_empty");
    CHECK_THROWS_WITH(write_report(empty), Catch::Matchers::ContainsSubstring("nothing to report"));
    CHECK(fs::is_empty(empty.run_dir));
    fs::remove_all(empty.run_dir);
  }
  // A refused report writes nothing: the earlier one is intact.
  CHECK(read_file_text(cfg.out_dir + "/report.md") == report_md);
  CHECK(fs::exists(cfg.out_dir + "/pred_best_0.png"));
  fs::remove_all(dir);
}
#endif

TEST_CASE("a moving average of the weights is validated, saved and resumed", "[train][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("ema");
  TrainConfig cfg = small_run(*full, dir, "small", "SimpleModel", 4, 2);
  cfg.epochs = 3;
  cfg.batch = 2;
  cfg.ema_decay = 0.9;
  TrainResult r = train(cfg);
  const fs::path ema_file = fs::path(cfg.out_dir) / "ema.safetensors";
  REQUIRE(fs::exists(ema_file));
  auto rows = read_jsonl(r.metrics_file);
  REQUIRE(rows.size() == 3);
  // Both losses are logged; the average's is the one that picks the best epoch.
  CHECK(std::isfinite(rows.back().at("val_loss_live").as_number()));
  CHECK(rows.back().at("val_loss").as_number() != rows.back().at("val_loss_live").as_number());
  CHECK(load_checkpoint(ema_file.string()).epoch == 3);

  TrainConfig more = cfg;
  more.epochs = 4;
  more.resume = r.last_checkpoint;
  CHECK(train(more).epochs_run == 1);
  CHECK(load_checkpoint(ema_file.string()).epoch == 4);

  // The average resumes from the checkpoint itself (a kill between two files
  // cannot part them), so an ema.safetensors of another epoch beside it changes nothing.
  fs::copy_file(ema_file, dir + "/ema-4.safetensors");
  more.epochs = 5;
  more.resume = (fs::path(cfg.out_dir) / "last.safetensors").string();
  train(more);
  CHECK_FALSE(load_checkpoint(more.resume).average.empty());
  fs::copy_file(dir + "/ema-4.safetensors", ema_file, fs::copy_options::overwrite_existing);
  more.epochs = 6;
  CHECK(train(more).epochs_run == 1);
  CHECK(load_checkpoint(ema_file.string()).epoch == 6);
  more.ema_decay = 1.0;
  CHECK_THROWS_WITH(train(more), Catch::Matchers::ContainsSubstring("moving average's decay"));

  // A fresh run without an average in the same folder replaces the run, the old average with it.
  TrainConfig fresh = cfg;
  fresh.ema_decay = 0;
  fresh.epochs = 1;
  r = train(fresh);
  CHECK_FALSE(fs::exists(ema_file));
  CHECK(read_jsonl(r.metrics_file).size() == 1);
  CHECK(load_checkpoint(r.last_checkpoint).epoch == 1);

  // A checkpoint without an average in it (a run without --ema, or written before
  // averages were kept there): the one beside it must be of its epoch, or it is refused.
  fs::copy_file(dir + "/ema-4.safetensors", ema_file);
  TrainConfig old = fresh;
  old.ema_decay = 0.9;
  old.epochs = 2;
  old.resume = r.last_checkpoint;
  CHECK_THROWS_WITH(train(old), Catch::Matchers::ContainsSubstring("ema.safetensors") && Catch::Matchers::ContainsSubstring("epoch 4"));
  fs::remove_all(dir);
}

TEST_CASE("training on train + val uses both splits and keeps the last epoch", "[train][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("trainonval");
  // Two epochs, then a history whose val loss no later epoch can beat, then two more:
  // a held-out val split keeps epoch 1 as the best, a trained-on one the last epoch.
  auto run = [&](bool train_on_val) {
    TrainConfig cfg = small_run(*full, dir, train_on_val ? "all" : "held-out", "SimpleModel", 4, 2);
    cfg.epochs = 2;
    cfg.batch = 2;
    cfg.train_on_val = train_on_val;
    const TrainResult first = train(cfg);
    std::string history;
    for (Json row : read_jsonl(first.metrics_file)) {
      row["val_loss"] = 0.0;
      history += row.dump() + "\n";
    }
    write_file_atomic(first.metrics_file, history);
    cfg.epochs = 4;
    cfg.resume = first.last_checkpoint;
    TrainResult r = train(cfg);
    CHECK(Json::parse(read_file_text(cfg.out_dir + "/config.json")).at("train_on_val").as_bool() == train_on_val);
    return r;
  };
  const TrainResult held_out = run(false);
  CHECK(held_out.train_images == 4);
  CHECK(held_out.images_per_epoch == 4);
  CHECK(held_out.best_epoch == 1);
  const TrainResult all = run(true);
  CHECK(all.train_images == 6);
  CHECK(all.best_epoch == 4);
  CHECK(load_checkpoint(all.best_checkpoint).epoch == 4);
  fs::remove_all(dir);
}

TEST_CASE("last.safetensors is written every --save-every epochs and at the end", "[train]") {
  CHECK(saves_last_after(1, 0, 10, 1));
  CHECK_FALSE(saves_last_after(1, 0, 10, 4));
  CHECK(saves_last_after(4, 0, 10, 4));
  CHECK(saves_last_after(8, 0, 10, 4));
  CHECK_FALSE(saves_last_after(9, 0, 10, 4));
  CHECK(saves_last_after(10, 0, 10, 4));  // the last epoch, whatever the count
  CHECK(saves_last_after(7, 3, 10, 4));   // counted from where a resumed run started
  CHECK_FALSE(saves_last_after(4, 3, 10, 4));
  CHECK(saves_last_after(2, 0, 10, 0));   // 0 is read as 1
}

TEST_CASE("with --save-every, the last epoch's checkpoints are complete", "[train][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("saveevery");
  TrainConfig cfg = small_run(*full, dir, "every", "SimpleModel", 4, 2);
  cfg.epochs = 3;
  cfg.batch = 2;
  cfg.save_every = 2;
  cfg.ema_decay = 0.9;
  cfg.train_on_val = true;  // best is then the last epoch, written with last
  const TrainResult r = train(cfg);
  CHECK(load_checkpoint(r.last_checkpoint).epoch == 3);
  CHECK(load_checkpoint(cfg.out_dir + "/ema.safetensors").epoch == 3);
  CHECK(load_checkpoint(r.best_checkpoint).epoch == 3);
  CHECK(read_jsonl(r.metrics_file).size() == 3u);
  CHECK(Json::parse(read_file_text(cfg.out_dir + "/config.json")).at("save_every").as_int() == 2);
  fs::remove_all(dir);
}

TEST_CASE("every batch is whole: the last one is completed with the epoch's first images", "[train][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("batchofone");
  TrainConfig cfg = small_run(*full, dir, "five", "SimpleModel", 5, 2);
  cfg.epochs = 1;
  cfg.batch = 4;  // 5 = 4 + 1: the batch of one (which BatchNorm cannot train on) becomes a batch of 4
  TrainResult r = train(cfg);
  CHECK(r.train_images == 5);
  CHECK(r.images_per_epoch == 8);
  cfg.batch = 3;
  cfg.out_dir += "-b3";
  r = train(cfg);
  CHECK(r.train_images == 5);
  CHECK(r.images_per_epoch == 6);
  fs::remove_all(dir);
}

TEST_CASE("training stops with a clear message on bad input", "[train][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("badinput");

  SECTION("a diverging loss names the epoch") {
    TrainConfig cfg = small_run(*full, dir, "small", "SimpleModel", 4, 2);
    cfg.epochs = 5;
    cfg.batch = 4;
    cfg.lr = 1e12;
    CHECK_THROWS_WITH(train(cfg), Catch::Matchers::ContainsSubstring("epoch") && Catch::Matchers::ContainsSubstring("not finite"));
    CHECK_FALSE(fs::exists(cfg.out_dir));  // it failed in its first epoch: no run folder is left
  }
  SECTION("a file where the run folder should be") {
    TrainConfig cfg = small_run(*full, dir, "small", "SimpleModel", 4, 2);
    write_file_atomic(cfg.out_dir, std::string("not a folder"));
    CHECK_THROWS_WITH(train(cfg), Catch::Matchers::ContainsSubstring(cfg.out_dir) && Catch::Matchers::ContainsSubstring("a file has this name"));
  }
  SECTION("an empty validation split names the pack") {
    TrainConfig cfg = small_run(*full, dir, "noval", "SimpleModel", 4, 0);
    cfg.epochs = 1;
    CHECK_THROWS_WITH(train(cfg), Catch::Matchers::ContainsSubstring(cfg.pack_path) && Catch::Matchers::ContainsSubstring("val split is empty"));
  }
#ifdef FACEKEYS_WITH_OPENCV  // packing IMM itself
  SECTION("a malformed .asf stops packing with its file and line") {
    const std::string imm = dir + "/imm";
    fs::create_directories(imm);
    const std::string src = std::string(FACEKEYS_DATA_DIR) + "/imm_face_db/";
    fs::copy_file(src + "01-1m.jpg", imm + "/01-1m.jpg");
    std::string text = read_file_text(src + "01-1m.asf");
    text.replace(text.find("0.35763609"), 10, "zero.three");
    write_file_atomic(imm + "/01-1m.asf", text);
    CHECK_THROWS_WITH(pack_imm(imm, ImmPackOptions{}), Catch::Matchers::ContainsSubstring("01-1m.asf:17"));
  }
  SECTION("points outside their photo and odd-sized photos are packed and counted for a warning") {
    const std::string imm = dir + "/imm3";
    fs::create_directories(imm);
    const std::string src = std::string(FACEKEYS_DATA_DIR) + "/imm_face_db/";
    for (const char* f : {"01-1m.jpg", "33-1m.asf"}) fs::copy_file(src + f, imm + "/" + f);
    std::string text = read_file_text(src + "01-1m.asf");
    text.replace(text.find("0.35763609"), 10, "1.35763609");  // a point right of the photo
    write_file_atomic(imm + "/01-1m.asf", text);
    save_image(imm + "/33-1m.jpg", ImageU8(32, 24, 3).view());  // not 640x480
    ImmPackStats st;
    const Pack p = pack_imm(imm, ImmPackOptions{}, &st);
    CHECK(p.size() == 2);
    CHECK(st.points_outside == 1);
    CHECK(st.files_with_points_outside == std::vector<std::string>{"01-1m.asf"});
    CHECK(st.odd_sized == std::vector<std::string>{"33-1m.jpg (32x24)"});
  }
  SECTION("a corrupt image stops packing with its name") {
    const std::string imm = dir + "/imm2";
    fs::create_directories(imm);
    const std::string src = std::string(FACEKEYS_DATA_DIR) + "/imm_face_db/";
    fs::copy_file(src + "01-1m.asf", imm + "/01-1m.asf");
    write_file_atomic(imm + "/01-1m.jpg", std::string("not a jpeg"));
    CHECK_THROWS_WITH(pack_imm(imm, ImmPackOptions{}), Catch::Matchers::ContainsSubstring("01-1m.jpg"));
  }
#endif
  fs::remove_all(dir);
}
#endif

TEST_CASE("weight average: shadow = d * shadow + (1 - d) * live, swapped in and out", "[train]") {
  torch::nn::Sequential net(torch::nn::Linear(2, 1), torch::nn::BatchNorm1d(1));
  torch::NoGradGuard no_grad;
  auto w = net->named_parameters()["0.weight"];
  w.fill_(1.0f);
  WeightAverage average(*net, 0.75);
  w.fill_(5.0f);
  average.update();  // 0.75 * 1 + 0.25 * 5 = 2
  w.fill_(2.0f);
  average.update();  // 0.75 * 2 + 0.25 * 2 = 2
  w.fill_(9.0f);
  average.update();  // 0.75 * 2 + 0.25 * 9 = 3.75
  average.swap_in();
  CHECK(w.min().item<float>() == Approx(3.75f));
  CHECK(w.max().item<float>() == Approx(3.75f));
  average.swap_out();
  CHECK(w.min().item<float>() == 9.0f);
  // BatchNorm's batch counter is an integer buffer: copied, never averaged.
  auto count = net->named_buffers()["1.num_batches_tracked"];
  count.fill_(7);
  average.update();
  average.swap_in();
  CHECK(count.item<int64_t>() == 7);
  average.swap_out();
}

TEST_CASE("bench measures the ceiling, the end-to-end rate and the batches alone in one run", "[train][bench]") {
  BenchConfig cfg;
  cfg.model = "SimpleModel";
  cfg.device = DeviceChoice::Cpu;
  cfg.batch = 4;
  cfg.warmup_steps = 1;
  cfg.steps = 3;
  const Json r = benchmark_training(cfg);
  for (const char* key : {"model_only_img_s", "end_to_end_img_s", "batches_only_img_s", "ratio"}) {
    INFO(key);
    CHECK(std::isfinite(r.at(key).as_number()));
    CHECK(r.at(key).as_number() > 0);
  }
  CHECK(r.at("ratio").as_number() ==
        Approx(r.at("end_to_end_img_s").as_number() / r.at("model_only_img_s").as_number()));
  CHECK(r.at("device").as_string() == "cpu");
  CHECK_FALSE(r.at("batches_in_background").as_bool());  // on a CPU the batches are made between steps
}

TEST_CASE("learning-rate schedules", "[train]") {
  TrainConfig cfg;
  cfg.lr = 1e-3;
  cfg.epochs = 100;
  CHECK(scheduled_lr(cfg, 50) == 1e-3);
  cfg.schedule = Schedule::Cosine;
  CHECK(scheduled_lr(cfg, 0) == Approx(1e-3));
  CHECK(scheduled_lr(cfg, 99) < 1e-4);
  cfg.schedule = Schedule::Step;
  CHECK(scheduled_lr(cfg, 80) == Approx(1e-5));
  cfg.warmup_epochs = 4;
  CHECK(scheduled_lr(cfg, 0) == Approx(2e-4));
  CHECK_THROWS_WITH(schedule_from_name("bogus"), Catch::Matchers::ContainsSubstring("bogus"));
}

#ifdef FACEKEYS_WITH_OPENCV
TEST_CASE("sweep trains the Part 1 models and writes a results table", "[sweep][data]") {
  const Pack* full = imm_pack();
  REQUIRE(full != nullptr);
  const std::string dir = temp_dir("sweep");
  SweepConfig cfg;
  cfg.pack = dir + "/small.pack";
  write_pack(cfg.pack, subset(*full, 8, 4));
  cfg.out = dir + "/results";
  cfg.part = "1";
  cfg.epochs_part1 = 2;
  cfg.batch = 4;
  cfg.device = DeviceChoice::Cpu;
  const std::string table = read_file_text(run_sweep(cfg));
  for (const char* m : {"SimpleModel", "SimpleModelDeeper", "SimpleModelLargeKernel"}) {
    INFO(m);
    CHECK(table.find(std::string("| `") + m + "` | 2 |") != std::string::npos);
    CHECK(fs::exists(cfg.out + "/" + m + "/loss.png"));
    CHECK(fs::exists(cfg.out + "/" + m + "/eval_val.json"));
  }
  CHECK(table.find("Baseline") == std::string::npos);
  // --reuse keeps finished runs: the table is rebuilt without retraining.
  const auto stamp = fs::last_write_time(cfg.out + "/SimpleModel/best.safetensors");
  cfg.reuse = true;
  run_sweep(cfg);
  CHECK(fs::last_write_time(cfg.out + "/SimpleModel/best.safetensors") == stamp);
  fs::remove_all(dir);
}
#endif
