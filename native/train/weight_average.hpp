// Weight averaging (EMA) for training: an exponential moving average of a
// model's weights, kept beside the live ones.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace facekeys {

struct Checkpoint;

// An exponential moving average of a model's parameters and floating-point
// buffers (BatchNorm statistics included), updated after every optimiser step:
// shadow = decay * shadow + (1 - decay) * live. Averaging the end of a run
// smooths out the last steps' noise, which on a dataset as small as LFPW's 805
// crops is worth a few hundredths of a percent of NME. Integer buffers (BN's
// batch counters) are copied, not averaged.
class WeightAverage {
 public:
  WeightAverage(torch::nn::Module& model, double decay);
  void update();
  // Puts the average into the model, keeping the live weights to put back.
  void swap_in();
  void swap_out();
  // Continues an average saved earlier: copies the tensors of `from` (the same
  // architecture, or a checkpoint's `average`) into the shadow, by name.
  void load(torch::nn::Module& from);
  void load(const std::map<std::string, torch::Tensor>& saved);
  // The average by tensor name (what save_checkpoint keeps as "ema.<name>").
  std::vector<std::pair<std::string, torch::Tensor>> named() const;

 private:
  double decay_;
  std::vector<std::string> names_;
  std::vector<torch::Tensor> live_, shadow_, saved_;
};

// The average a run keeps (nullptr when decay is 0). A resumed run (resume_path
// not empty) continues the average saved in its checkpoint `resumed`, or, for
// runs from before checkpoints held it, the ema.safetensors beside it, which
// must be of the checkpoint's epoch `start_epoch` (else it throws naming it).
std::unique_ptr<WeightAverage> start_weight_average(torch::nn::Module& model, double decay,
                                                    const Checkpoint& resumed, const std::string& resume_path,
                                                    int start_epoch, const torch::Device& device);

}  // namespace facekeys
