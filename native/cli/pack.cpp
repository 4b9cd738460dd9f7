// `facekeys pack imm|ibug`: a dataset decoded once into a pack file the trainer
// loads (OpenCV decodes; tools/pack_datasets.hpp).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli_checks.hpp"
#include "cli/commands.hpp"
#include "tools/pack_datasets.hpp"

namespace facekeys {

void add_pack_command(CLI::App& app) {
  auto* pack = app.add_subcommand("pack", "Decode a dataset once into a pack file the trainer loads");
  pack->require_subcommand(1);

  struct ImmArgs {
    std::string dir, out = "imm.pack";
    ImmPackOptions opt;
  };
  auto a = std::make_shared<ImmArgs>();
  auto* imm = pack->add_subcommand("imm", "IMM face database folder (*.asf + *.jpg)");
  imm->add_option("dir", a->dir, "Folder with the IMM .asf and .jpg files")->required();
  imm->add_option("-o,--out", a->out, "Output pack")->capture_default_str();
  imm->add_option("--width", a->opt.width, "Working width")->capture_default_str()->check(cli::between(8, 4096));
  imm->add_option("--height", a->opt.height, "Working height")->capture_default_str()->check(cli::between(8, 4096));
  imm->add_option("--last-train-person", a->opt.last_train_person, "Persons up to this id train, the rest validate")
      ->capture_default_str();
  imm->callback([a] {
    ImmPackStats st;
    Pack p = pack_imm(a->dir, a->opt, &st);
    write_pack(a->out, p);
    std::fprintf(stderr, "%s: %zu images (%zu train, %zu val), %dx%d gray, %d points\n", a->out.c_str(), p.size(),
                 p.count(Split::Train), p.count(Split::Val), p.width, p.height, p.num_points);
    if (st.points_outside > 0)
      std::fprintf(stderr, "warning: %zu points in %zu .asf files lie outside their image (coordinates outside "
                           "[0, 1]), e.g. %s; they are kept\n",
                   st.points_outside, st.files_with_points_outside.size(), st.files_with_points_outside[0].c_str());
    if (!st.odd_sized.empty())
      std::fprintf(stderr, "warning: %zu photos differ in size from the first one, e.g. %s; each is resized to "
                           "%dx%d all the same\n",
                   st.odd_sized.size(), st.odd_sized[0].c_str(), p.width, p.height);
  });
  struct IbugArgs {
    std::vector<std::string> train, test;
    std::string out = "ibug.pack";
    IbugPackOptions opt;
  };
  auto b = std::make_shared<IbugArgs>();
  auto* ibug = pack->add_subcommand(
      "ibug", "iBUG/300-W 68 points: dlib XML files or folders of .pts (+ --boxes CSV), cropped around the face box");
  ibug->add_option("--train", b->train, "Training source (XML or .pts folder); every --val-every-th image validates");
  ibug->add_option("--test", b->test, "Test source (XML or .pts folder): the test split");
  ibug->add_option("--boxes", b->opt.boxes_csv, "Face-box CSV (300w/boxes_lfpw.csv) for .pts folders; without it, each face's box is the tight box around its "
                   "68 points (the CSV's 'lm' columns; DAN's boxes are 1-3 % larger)")
      ->check(CLI::ExistingFile);
  ibug->add_option("--box-column", b->opt.box_column, "Which CSV box: dan, dlib, lm, ...")->capture_default_str();
  ibug->add_option("--margin", b->opt.crop.margin, "Crop side = face box side x margin")
      ->capture_default_str()->check(cli::between(0.5, 4.0));
  ibug->add_option("--size", b->opt.size, "Working resolution (square crops)")->capture_default_str()->check(
      cli::between(8, 4096));
  ibug->add_option("--val-every", b->opt.val_every, "Every n-th training image goes to the val split (0: none)")
      ->capture_default_str()->check(cli::non_negative());
  ibug->add_option("-o,--out", b->out, "Output pack")->capture_default_str();
  ibug->callback([b] {
    std::vector<IbugSource> sources;
    for (const auto& s : b->train) sources.push_back({s, false});
    for (const auto& s : b->test) sources.push_back({s, true});
    if (sources.empty()) throw CLI::ValidationError("pack ibug", "give at least one --train or --test source");
    if (b->opt.boxes_csv.empty())
      for (const auto& s : sources)
        if (std::filesystem::is_directory(s.path))
          std::fprintf(stderr, "note: %s: no --boxes, so each face is cropped around the tight box of its own points "
                               "(the shipped models were trained on 300w/boxes_lfpw.csv's DAN boxes)\n",
                       s.path.c_str());
    IbugPackStats st;
    Pack p = pack_ibug(sources, b->opt, &st);
    write_pack(b->out, p);
    std::fprintf(stderr, "%s: %zu face%s (%zu train, %zu val, %zu test), %dx%d gray, %d points\n", b->out.c_str(),
                 p.size(), p.size() == 1 ? "" : "s", p.count(Split::Train), p.count(Split::Val), p.count(Split::Test), p.width, p.height,
                 p.num_points);
    std::fprintf(stderr, "%zu faces have points outside their crop (%zu points in all); they are kept\n",
                 st.images_with_points_outside, st.points_outside);
  });
}

}  // namespace facekeys
