// A one-line progress bar on stderr: epoch, loss, img/s, ETA.
// Redraws in place on a terminal; prints one line per epoch otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace facekeys {

class ProgressBar {
public:
  explicit ProgressBar(int total_epochs) : total_(total_epochs), tty_(::isatty(2) != 0) {}

  // Whether update() draws anything (stderr is a terminal): callers skip
  // computing what it would show otherwise.
  bool live() const { return tty_; }

  void update(int epoch, double fraction, double loss, double images_per_s, double eta_s) {
    if (!tty_) return;
    constexpr int kWidth = 24;
    int filled = static_cast<int>(fraction * kWidth + 0.5);
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\repoch %d/%d [%s] loss %.6f  %.0f img/s  ETA %s   ", epoch, total_, bar.c_str(), loss,
                 images_per_s, format_duration(eta_s).c_str());
    std::fflush(stderr);
  }

  void epoch_done(int epoch, double train_loss, double val_loss, double images_per_s, double eta_s, bool best) {
    std::fprintf(stderr, "%sepoch %d/%d  train %.6f  val %.6f  %.0f img/s  ETA %s%s\n", tty_ ? "\r\033[K" : "", epoch,
                 total_, train_loss, val_loss, images_per_s, format_duration(eta_s).c_str(), best ? "  *best" : "");
  }

  static std::string format_duration(double s) {
    if (!(s >= 0) || s > 1e7) return "--:--";
    long t = static_cast<long>(s + 0.5);
    char buf[32];
    if (t >= 3600)
      std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
      std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
  }

private:
  int total_;
  bool tty_;
};

}  // namespace facekeys
