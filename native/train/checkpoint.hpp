// Checkpoints as safetensors: weights, buffers, optimizer moments and
// metadata (model spec, epoch, training config, metrics), independent of the
// LibTorch version that wrote them.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "train/adam.hpp"
#include "models/models.hpp"

namespace facekeys {

struct Checkpoint {
  ModelSpec spec;
  std::shared_ptr<KeypointNet> model;           // on CPU after load
  std::map<std::string, std::string> metadata;  // everything in __metadata__
  int epoch = 0;                                // epochs completed
  std::int64_t optimizer_step = 0;
  std::map<std::string, torch::Tensor> optimizer_state;  // "adam.m.<param>" -> tensor (may be empty)
  std::map<std::string, torch::Tensor> average;          // "ema.<tensor>" -> the moving average (may be empty)
};

// Writes atomically. extra metadata (config, metrics) is stored verbatim;
// `average` (named tensors, stored as "ema.<name>") keeps a moving average of
// the weights in the same file as the weights it belongs with, so that no
// interruption can leave the two of different epochs.
void save_checkpoint(const std::string& path, const ModelSpec& spec, KeypointNet& model, const Adam* optimizer,
                     int epoch, const std::map<std::string, std::string>& extra = {},
                     const std::vector<std::pair<std::string, torch::Tensor>>& average = {});

// Every parameter and buffer of a module by name, parameters first: the
// tensors a checkpoint holds, in the order it holds them.
std::vector<std::pair<std::string, torch::Tensor>> named_tensors(torch::nn::Module& model);

// Rebuilds the model named in the file and loads its weights; throws with the
// path on another format, an unknown architecture or mismatched tensors.
Checkpoint load_checkpoint(const std::string& path);

// Pretrained weights by path (`facekeys train --init`): copies every tensor of
// a safetensors file whose name matches a parameter or buffer of the model and
// whose shape fits (F32/F64/F16/BF16/I64/I32 are converted). A 3-channel conv
// weight meeting a 1-channel one (RGB ImageNet conv1 -> gray input) is summed
// over its input channels; a wider model's tensor is cut to this one's by
// KeypointNet::narrowed where the family allows it (one note counts them).
// Everything else is skipped with a note in *notes (file tensors the model
// lacks, shape mismatches, model tensors the file lacks). Returns how many
// tensors were loaded; throws naming the path when the file cannot be read or
// nothing matches.
int load_matching_weights(KeypointNet& model, const std::string& path, std::vector<std::string>* notes = nullptr);

}  // namespace facekeys
