// `facekeys report`: what a person looks at after training. Loss curves,
// ground-truth overlays, best/worst validation predictions and learned conv
// filters, as PNG files plus a report.md that shows them.
#pragma once

#include <string>
#include <vector>

namespace facekeys {

struct ReportConfig {
  std::string run_dir;           // holds metrics.jsonl; outputs go here too
  std::string pack_path;         // for the images behind overlays (optional)
  std::string predictions_path;  // from `facekeys eval --predictions` (optional)
  std::string checkpoint_path;   // for filter grids (optional)
  int overlays = 3;              // ground-truth overlays, and best/worst predictions each
};

// Returns the files written (relative to run_dir).
std::vector<std::string> write_report(const ReportConfig& cfg);

}  // namespace facekeys
