// facekeys-export: checkpoint -> model.onnx + model.json (the model card).
//
//   facekeys-export run/best.safetensors -o models/baseline7   [--metrics eval.json] [--name NAME]
//   facekeys-export --verify models/baseline7
//   facekeys-export --weights-of models/baseline7 -o weights.safetensors   (for `train --init`)
//
// A separate executable because it links libonnx, which must not share a
// process with LibTorch (docs/EXPORT.md); `facekeys export ...` runs this.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "onnx_export.hpp"
#include "onnx_import.hpp"

int main(int argc, char** argv) {
  CLI::App app{"facekeys-export: write a trained checkpoint as ONNX (model.onnx) plus its model card (model.json)"};
  app.set_version_flag("--version", "facekeys-export 0.1.0");
  std::string checkpoint, out_dir, verify_dir, weights_of_dir;
  facekeys::ExportOptions opt;
  auto* ck = app.add_option("checkpoint", checkpoint, "Checkpoint (.safetensors) written by `facekeys train`")
                 ->check(CLI::ExistingFile);
  auto* out = app.add_option("-o,--output", out_dir,
                             "Output directory (created; model.onnx and model.json are replaced); with --weights-of, "
                             "the safetensors file to write");
  app.add_option("--name", opt.name, "Model name for the card (default: <arch>-<schema>)");
  app.add_option("--metrics", opt.metrics_path, "Evaluation JSON (`facekeys eval` output) to copy into the card")
      ->check(CLI::ExistingFile);
  app.add_option("--crop-margin", opt.crop_margin,
                 "Face-box models: crop margin to record instead of the one the training pack recorded "
                 "(`pack ibug --margin`; packs from before it was recorded: the model zoo's 1.3)")
      ->check(CLI::PositiveNumber);
  app.add_option("--opset", opt.opset, "ONNX opset")
      ->check(CLI::Range(facekeys::kOnnxMinOpset, facekeys::kOnnxMaxOpset))
      ->capture_default_str();
  std::string weights = "float32";
  app.add_option("--weights", weights,
                 "How conv/linear weights are stored: float32, or int8 (per output channel, "
                 "4x smaller; docs/EXPORT.md)")
      ->check(CLI::IsMember({"float32", "int8"}))
      ->capture_default_str();
  bool flip_pipeline = false, flip_graph = false;
  auto* flip = app.add_flag("--flip-test", flip_pipeline,
                            "The card asks for the flip test: photos also run the mirrored crop and average the "
                            "result mapped back (twice the compute; `facekeys eval --flip-test` scores a checkpoint "
                            "the same way); video may skip it");
  app.add_flag("--flip-test-in-graph", flip_graph,
               "Build the flip test into the graph instead, for runtimes without the facekeys core (it cannot be "
               "skipped then)")
      ->excludes(flip);
  auto* verify = app.add_option("--verify", verify_dir,
                                "Check an exported directory instead (card valid, ONNX checker and shape inference, "
                                "shapes and SHA-256 match the card)");
  auto* weights_of = app.add_option("--weights-of", weights_of_dir,
                                    "Read an exported directory's weights back out of its ONNX (int8 dequantised) into "
                                    "the safetensors file -o: what `facekeys train --init DIR` loads to fine-tune it")
                        ->check(CLI::ExistingDirectory);
  ck->needs(out);
  verify->excludes(ck)->excludes(out)->excludes(weights_of);
  weights_of->excludes(ck)->needs(out);
  try {
    app.parse(argc, argv);
    if (!verify_dir.empty()) {
      facekeys::verify_export(verify_dir);
      std::printf("%s: OK\n", verify_dir.c_str());
      return 0;
    }
    if (!weights_of_dir.empty()) {
      facekeys::write_export_weights(weights_of_dir, out_dir);
      std::printf("wrote %s (weights of %s)\n", out_dir.c_str(), weights_of_dir.c_str());
      return 0;
    }
    if (checkpoint.empty()) throw CLI::RequiredError("checkpoint and -o (or --verify DIR)");
    opt.weights = facekeys::parse_weight_storage(weights);
    using Flip = facekeys::ExportOptions::FlipTest;
    opt.flip_test = flip_graph ? Flip::Graph : flip_pipeline ? Flip::Pipeline : Flip::None;
    const auto r = facekeys::export_checkpoint(checkpoint, out_dir, opt);
    const char* flip = r.card.onnx.flip_test     ? ", flip test in the graph"
                       : r.card.output.flip_test ? ", the card asks for the flip test"
                                                 : "";
    std::printf("wrote %s (%s, opset %d, %s weights, %s -> %s%s) and %s\n", r.onnx_path.c_str(), r.card.arch.c_str(),
                r.card.onnx.opset, r.card.onnx.weights.c_str(), r.card.onnx.input_name.c_str(),
                r.card.onnx.output_name.c_str(), flip, r.card_path.c_str());
    if (!r.crop_recorded)
      std::fprintf(stderr, "note: %s records no crop policy (its pack predates recorded ones): the card has the "
                           "model zoo's default for %s: %s (margin %g)\n",
                   checkpoint.c_str(), r.card.arch.c_str(), r.card.crop.source.c_str(),
                   r.card.crop.source == "face-box" ? r.card.crop.margin : 1.0);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facekeys-export: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
