// The page's state, shared by its parts:
//   main.cpp         GLFW + ImGui set-up and the frame loop (render on demand)
//   overlay_view.cpp the photo and its overlay's primitives (overlay.hpp) drawn
//                    with ImGui's draw list; zoom, pan, drawing a face box
//   panel.cpp        the ImGui panel (photos, model, switches, timings, status)
//   js_api.cpp       the functions app_glue.js calls: models, the photo, the
//                    photo job (photo_job.hpp) step by step, the PNG export,
//                    and video: the core's face tracker (face_tracker.hpp)
//                    frame by frame
// The pipeline itself is the core's PhotoJob (photos) or FaceTracker (camera
// and video files): JavaScript decodes the photo or grabs the frame, runs each
// tensor the core asks for with ONNX Runtime Web and hands the outputs back;
// nothing here knows the steps.
#pragma once

#include <GLES3/gl3.h>
#include <GLFW/glfw3.h>

#include <memory>
#include <string>
#include <vector>

#include "facekeys/face_tracker.hpp"
#include "facekeys/image.hpp"
#include "facekeys/model_card.hpp"
#include "facekeys/overlay.hpp"
#include "facekeys/photo_job.hpp"
#include "imgui.h"

namespace facekeys_app {

struct Model {
  std::string id;  // folder name under models/
  facekeys::ModelCard card;
};

struct App {
  GLFWwindow* window = nullptr;
  float ui_scale = 1;  // ImGui's font and sizes: devicePixelRatio (main.cpp, set_ui_scale)
  std::vector<Model> models;
  int model = -1;  // selected

  // The photo and its last run. The job holds the pixels (maybe a reduced-scale decode).
  facekeys::ImageU8 pending;  // pixels JavaScript writes, before fk_photo_commit
  std::unique_ptr<facekeys::PhotoJob> job;
  int job_model = -1;  // the model of the job's current run (-1: none)
  std::unique_ptr<facekeys::PhotoJob> warmup;  // a blank photo's job while the networks warm up
  GLuint tex = 0;      // the photo as shown (maybe smaller than the pixels held)

  // Video (camera or file): the tracker, while a video session is on screen.
  // The view shows the last frame the tracker finished, with its overlay, in
  // the page's video layer under the ImGui canvas (platform_web.hpp): the page
  // puts there the frame's pixels with the overlay drawn on them by the core's
  // rasteriser (fk_video_layer_draw), so a tracked frame does not redraw ImGui.
  struct Video {
    std::unique_ptr<facekeys::FaceTracker> tracker;
    int model = -1;
    facekeys::ImageU8 pending;    // the next frame's RGBA pixels, written by JavaScript
    const facekeys::TensorRun* run = nullptr;  // the tracker's current network call
    int frame_w = 0, frame_h = 0;              // the frame shown
    int next_w = 0, next_h = 0;                // the frame being tracked
    bool live = false;            // frames are coming (camera or a playing file)
    bool camera = false;          // the source is the camera (else a file)
    bool paused = false;
    std::string source;           // "camera" or the file's name
    int detect_every = 10;
    bool smoothing = true;
    bool flip_test = false;       // each face's mirror image too (TrackOptions::flip_test)
    // The panel's figures (JavaScript: fk_video_stats)
    double fps = 0, t_grab = 0, t_detect = 0, t_pre = 0, t_infer = 0, t_total = 0;
    int frames = 0, dropped = 0;
    std::vector<facekeys::TrackedFace> shown;  // the faces of the frame shown (tooltip, panel, layer)
    facekeys::ImageU8 layer;                   // the frame shown with its overlay, for the video layer
    double stats_drawn_ms = -1e9;              // when the panel last showed new figures
  } video;
  bool video_mode() const { return video.tracker != nullptr; }

  // The overlay: rebuilt from the job when it or the style changed.
  facekeys::OverlayStyle style;
  bool show_overlay = true, names = true;
  facekeys::Overlay overlay;
  std::vector<GLuint> overlay_textures;  // per overlay item: its image's texture (0: none)
  bool overlay_stale = true;

  // Panel state
  float threshold = 0.7f;
  std::string status = "Drop, paste or pick photos (JPEG, PNG, WebP).";
  bool status_error = false;
  double t_decode = 0, t_detect = 0, t_pre = 0, t_infer = 0, t_total = 0;
  int photo_index = -1, photo_count = 0;
  bool busy = false;
  ImVec2 panel_pos{0, 0}, panel_size{0, 0};  // where the panel covers the photo
  bool panel_open = true;                    // not collapsed
  float panel_content_h = 0;                 // the height its contents took in the last frame

  // View: screen = view + (original pixel + 0.5) * scale
  float view_scale = 1.f, view_x = 0.f, view_y = 0.f;
  bool fit_pending = false;
  bool draw_box_mode = false, dragging_box = false;
  ImVec2 drag_start{0, 0};

  // Render on demand (platform_web.hpp)
  int frames_to_draw = 0;    // after a change of state
  double draw_until_ms = 0;  // after user input
  double busy_since_ms = 0;

  // Strings handed to JavaScript (valid until the next call that returns one)
  std::string json, error;
};
extern App g;

// Draw one more frame: the state changed.
void redraw();
// The overlay must be rebuilt (the job's result or the style changed).
void overlay_changed();
const Model* model_at(int i);
// The photo's size in original pixels (0 without a photo).
int photo_width();
int photo_height();
// Fits the photo into the canvas beside the panel.
void fit_view();
void set_error(const std::string& message);

// overlay_view.cpp
void draw_photo_and_overlay();
// An RGBA image (tightly packed) as a WebGL texture (linear filtering, edges clamped).
GLuint upload_rgba(facekeys::ViewU8 rgba);
void handle_view_input();
void free_overlay_textures();
// The panel's detector threshold, interval and smoothing to the video's tracker (js_api.cpp).
void update_tracker_options();
// panel.cpp
void draw_panel();
// The note under the model picker for whole-image (IMM) models.
extern const char* const kWholeImageNote;

}  // namespace facekeys_app
