// Checkpoints as safetensors: weights, buffers, optimizer moments and
// metadata (model spec, epoch, training config, metrics), independent of the
// LibTorch version that wrote them.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>

#include "adam.hpp"
#include "models.hpp"

namespace facekeys {

struct Checkpoint {
  ModelSpec spec;
  std::shared_ptr<KeypointNet> model;           // on CPU after load
  std::map<std::string, std::string> metadata;  // everything in __metadata__
  int epoch = 0;                                // epochs completed
  std::int64_t optimizer_step = 0;
  std::map<std::string, torch::Tensor> optimizer_state;  // "adam.m.<param>" -> tensor (may be empty)
};

// Writes atomically. extra metadata (config, metrics) is stored verbatim.
void save_checkpoint(const std::string& path, const ModelSpec& spec, KeypointNet& model, const Adam* optimizer,
                     int epoch, const std::map<std::string, std::string>& extra = {});

// Rebuilds the model named in the file and loads its weights; throws with the
// path on another format, an unknown architecture or mismatched tensors.
Checkpoint load_checkpoint(const std::string& path);

}  // namespace facekeys
