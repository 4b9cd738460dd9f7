// The photo job (photo_job.hpp) fed network outputs from the fuzzer's bytes:
// what a model from elsewhere could hand back (NaN, infinities, huge or tiny
// values, any number of faces), through detection, the crops, a finer decode,
// the result's JSON and the overlay drawn by the core's rasteriser (draw.hpp);
// then the same outputs through the face tracker (face_tracker.hpp) for a few
// frames. Flag bits pick the model kind, the flip test (two inputs a face, the
// second mapped back and averaged in), a reduced-scale decode, the orientation,
// the batch, smoothing and the detector interval (some bits serve two choices).
#include <cstring>
#include <vector>

#include "facekeys/draw.hpp"
#include "facekeys/face_tracker.hpp"
#include "facekeys/photo_job.hpp"
#include "fuzz_target.hpp"

namespace {

using namespace facekeys;

ModelCard card_of(bool heatmaps, bool flip_test) {
  ModelCard c;
  c.name = "fuzz";
  c.arch = heatmaps ? "HeatmapUNet" : "ResNet18";
  c.schema = "ibug68";
  c.num_points = 68;
  c.input.width = c.input.height = 32;
  c.crop.source = "face-box";
  c.crop.margin = 1.3;
  c.crop.square = true;
  c.output.kind = heatmaps ? "heatmaps" : "coords";
  if (heatmaps) c.output.width = c.output.height = 8;
  c.output.flip_test = flip_test;
  return c;
}

void run(const std::uint8_t* data, std::size_t size) {
  if (size < 1 + sizeof(float)) return;  // a flags byte and one value at least
  const std::uint8_t flags = data[0];
  std::vector<float> values((size - 1) / sizeof(float));
  std::memcpy(values.data(), data + 1, values.size() * sizeof(float));
  std::size_t next = 0;
  auto fill = [&](std::vector<float>& out, std::size_t n) {
    out.resize(n);
    for (float& v : out) v = values[next++ % values.size()];
  };
  const ModelCard card = card_of(flags & 1, flags & 16);
  Photo photo;
  photo.pixels = ImageU8(40, 30, 3, 90);
  if (flags & 2) {  // a reduced-scale decode: small faces ask for the photo again
    photo.stored_width = 160;
    photo.stored_height = 120;
  }
  const int turns = (flags >> 2) & 3;
  photo.quarter_turns_cw = turns;
  PhotoJob job(std::move(photo));
  PhotoOptions options;
  options.heatmap_views = true;
  options.max_batch = 1 + (flags >> 4);
  job.start(&card, options);
  for (int step = 0; step < 64; ++step) {
    if (const TensorRun* run = job.next()) {
      for (std::size_t k = 0; k < run->output_names.size(); ++k)
        fill(job.output(k), run->output_sizes[k] ? run->output_sizes[k] : (k == 0 ? 2 * 4420 : 4 * 4420));
      job.give();
    } else if (const long long n = job.pixels_wanted()) {
      (void)n;
      Photo again;
      again.pixels = ImageU8(160, 120, 3, 90);
      again.quarter_turns_cw = turns;
      job.replace_pixels(std::move(again));
    } else {
      break;
    }
  }
  (void)job.result_json().dump();
  OverlayStyle style;
  style.heatmaps = true;
  ImageU8 canvas(job.width(), job.height(), 3);
  draw_overlay(canvas.view(), job.overlay(style));
  ImageU8 small(7, 5, 4);  // drawn on a scaled copy too
  draw_overlay(small.view(), job.overlay(style));

  // The same outputs through the tracker, over a few frames (a track's next
  // crop comes from these points: NaN, huge, anywhere).
  TrackOptions track;
  track.detect_every = 1 + (flags >> 6);
  track.smoothing = (flags & 32) != 0;
  track.flip_test = (flags & 128) != 0;
  FaceTracker tracker(&card, track);
  for (int frame = 0; frame < 4; ++frame) {
    Photo f;
    f.pixels = ImageU8(40, 30, 3, 90);
    tracker.begin_frame(std::move(f), frame / 30.0);
    for (int step = 0; step < 64; ++step) {
      const TensorRun* run = tracker.next();
      if (!run) break;
      for (std::size_t k = 0; k < run->output_names.size(); ++k)
        fill(tracker.output(k), run->output_sizes[k] ? run->output_sizes[k] : (k == 0 ? 2 * 4420 : 4 * 4420));
      tracker.give();
    }
    (void)tracker.frame_json().dump();
    ImageU8 frame_canvas(40, 30, 3);
    style.pose_axes = true;
    draw_overlay(frame_canvas.view(), tracker.overlay(style));
  }
}

}  // namespace

FACEKEYS_FUZZ_TARGET(run(data, size))
