// `facekeys report`: what a person looks at after training. Loss curves,
// ground-truth overlays, best/worst validation predictions and learned conv
// filters, as PNG files plus a report.md that shows them. With predictions
// that carry per-image NMEs (schemas with eye corners, e.g. iBUG 68) it also
// draws the cumulative error curve (ced.png) and ranks overlays by NME; with
// --heatmaps, heatmap overlays for chosen points.
#pragma once

#include <string>
#include <vector>

namespace facekeys {

struct ReportConfig {
  std::string run_dir;           // holds metrics.jsonl; outputs go here too
  std::string pack_path;         // for the images behind overlays (optional)
  std::string predictions_path;  // from `facekeys eval --predictions` (optional)
  std::string checkpoint_path;   // for filter grids (optional)
  int overlays = 3;              // ground-truth overlays, and best/median/worst predictions each
  std::string heatmaps_path;     // from `facekeys eval --heatmaps` (optional; needs pack_path)
  // Points whose maps are overlaid (iBUG: nose tip, outer eye corners, mouth corners).
  std::vector<int> heatmap_points = {30, 36, 45, 48, 54};
};

// Returns the files written (relative to run_dir).
std::vector<std::string> write_report(const ReportConfig& cfg);

}  // namespace facekeys
