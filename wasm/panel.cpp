// The panel: photos, the model, the overlay's switches, timings and status.
// Actions go to JavaScript (window.facekeysApp, platform_web.hpp), which runs
// the pipeline and calls back with the results.
#include <algorithm>
#include <cstdio>

#include "app.hpp"
#include "facekeys/keypoint_pipeline.hpp"
#include "platform_web.hpp"

namespace facekeys_app {

// Shown under the model picker for whole-image (IMM) models, which were trained
// on 240 studio portraits and see the whole photo as one face.
const char* const kWholeImageNote =
    "This model expects a frontal studio portrait filling the frame (one face, head and shoulders). "
    "For other photos pick a 68-point (ibug68) model.";

namespace {

// The next item on this line if its `width` fits what is left of the panel's
// width, else on a new line: a row of buttons wraps instead of running past
// the panel's edge (where ImGui clips it).
void next_on_line(float width) {
  ImGui::SameLine();
  if (ImGui::GetContentRegionAvail().x < width) ImGui::NewLine();
}
void next_on_line(const char* button_label) {
  next_on_line(ImGui::CalcTextSize(button_label, nullptr, true).x + 2 * ImGui::GetStyle().FramePadding.x);
}

// Video (camera or file): pause, stop, the tracker's options, the session's frames.
void draw_video_controls() {
  App::Video& v = g.video;
  if (v.live) {
    if (ImGui::Button(v.paused ? "Resume" : "Pause")) facekeys_web::web_call0("togglePause");
    next_on_line("Stop");
    if (ImGui::Button("Stop")) facekeys_web::web_call0("stopVideo");
    next_on_line("Download frames");
  }
  if (ImGui::Button("Download frames")) facekeys_web::web_call0("downloadFrames");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("The session's faces, one JSON object per frame (.jsonl)");
  bool changed = ImGui::Checkbox("smoothing", &v.smoothing);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("One Euro filter on each face's points");
  ImGui::SameLine();
  changed |= ImGui::Checkbox("flip test", &v.flip_test);
  if (ImGui::IsItemHovered())
    ImGui::SetTooltip("Also run each face's mirror image and average, as photos do: a little more accurate,\n"
                      "twice the keypoint model's time");
  ImGui::SetNextItemWidth(120 * g.ui_scale);
  changed |= ImGui::SliderInt("detector every", &v.detect_every, 1, 60, "%d frames");
  if (changed) update_tracker_options();
}

}  // namespace

void draw_panel() {
  const float s = g.ui_scale;
  ImGui::SetNextWindowPos(ImVec2(10 * s, 10 * s), ImGuiCond_FirstUseEver);
  // 280 CSS pixels wide (s device pixels each); height 0: fitted to the contents every frame (the
  // IMM note, the heatmap box and the status come and go: a fixed height would hide the timings and
  // the status behind a scroll bar).
  ImGui::SetNextWindowSize(ImVec2(280 * s, 0), ImGuiCond_Always);
  ImGui::Begin("facekeys");
  g.panel_pos = ImGui::GetWindowPos();
  g.panel_size = ImGui::GetWindowSize();
  // Collapsed or opened: the photo may fit larger, or be covered (fit_view). (Begin() returns true when
  // collapsed too, since the height is fitted every frame: hence IsWindowCollapsed.)
  if (const bool open = !ImGui::IsWindowCollapsed(); open != g.panel_open) {
    g.panel_open = open;
    g.fit_pending = true;
    redraw();
  }
  if (ImGui::Button("Open photos...")) facekeys_web::web_call0("openFilePicker");
  next_on_line("Camera");
  if (ImGui::Button("Camera")) facekeys_web::web_call0("startCamera");
  next_on_line("Open video...");
  if (ImGui::Button("Open video...")) facekeys_web::web_call0("openVideoPicker");
  if (g.photo_count > 1) {  // the arrows and "k / n" together
    char count[32];
    std::snprintf(count, sizeof count, "%d / %d", g.photo_index + 1, g.photo_count);
    const float arrow = ImGui::GetFrameHeight(), gap = ImGui::GetStyle().ItemSpacing.x;
    next_on_line(2 * (arrow + gap) + ImGui::CalcTextSize(count).x);
    if (ImGui::ArrowButton("##prev", ImGuiDir_Left)) facekeys_web::web_call1("selectPhoto", g.photo_index - 1);
    ImGui::SameLine();
    if (ImGui::ArrowButton("##next", ImGuiDir_Right)) facekeys_web::web_call1("selectPhoto", g.photo_index + 1);
    ImGui::SameLine();
    ImGui::TextUnformatted(count);
  }
  if (g.video_mode())
    ImGui::TextWrapped("%s  (%d x %d)", g.video.camera ? "camera" : g.video.source.c_str(), photo_width(), photo_height());
  else if (g.job)
    ImGui::TextWrapped("%s  (%d x %d)", g.job->name().c_str(), photo_width(), photo_height());

  // model
  const Model* cur = model_at(g.model);
  if (ImGui::BeginCombo("model", cur ? cur->id.c_str() : "(none)")) {
    for (int i = 0; i < static_cast<int>(g.models.size()); ++i) {
      const bool sel = i == g.model;
      if (ImGui::Selectable(g.models[i].id.c_str(), sel) && !sel) {
        g.model = i;
        if (g.video_mode() && g.video.live)
          facekeys_web::web_call1("selectVideoModel", i);  // the video goes on with a new tracker
        else
          facekeys_web::web_call1("selectModel", i);
      }
      if (ImGui::IsItemHovered()) {
        const facekeys::ModelCard& c = g.models[i].card;
        ImGui::SetTooltip("%s: %s, %d points, input %dx%d, %s", c.arch.c_str(), c.schema.c_str(), c.num_points,
                          c.input.width, c.input.height, c.crop.source.c_str());
      }
    }
    ImGui::EndCombo();
  }
  if (cur && facekeys::card_is_whole_image(cur->card)) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.f, 0.8f, 0.35f, 1.f));
    ImGui::TextWrapped("%s", kWholeImageNote);
    ImGui::PopStyleColor();
  }
  ImGui::SliderFloat("threshold", &g.threshold, 0.05f, 0.99f, "%.2f");
  if (ImGui::IsItemDeactivatedAfterEdit()) {
    if (g.video_mode())
      update_tracker_options();  // the next detection uses it
    else
      facekeys_web::web_call0("rerunDetection");
  }
  // The overlay's style: what the view shows is what "Export PNG" draws.
  bool changed = ImGui::SliderFloat("point size", &g.style.point_scale, 0.25f, 4.f, "%.2fx");
  changed |= ImGui::Checkbox("lines", &g.style.lines);
  ImGui::SameLine();
  changed |= ImGui::Checkbox("boxes", &g.style.boxes);
  ImGui::SameLine();
  ImGui::Checkbox("names", &g.names);
  ImGui::Checkbox("overlay", &g.show_overlay);
  if (cur && cur->card.output.kind == "heatmaps") {
    ImGui::SameLine();
    changed |= ImGui::Checkbox("heatmap", &g.style.heatmaps);
  }
  if (cur && cur->card.schema == "ibug68") {
    ImGui::SameLine();
    changed |= ImGui::Checkbox("pose", &g.style.pose_axes);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("Head pose (head_pose.hpp), from the nose tip: red to the person's left, green up, blue out of the face");
  }
  if (changed) overlay_changed();
  if (g.video_mode())
    draw_video_controls();
  else {
    if (ImGui::Button(g.draw_box_mode ? "Drag a box on the photo..." : "Draw face box")) g.draw_box_mode = !g.draw_box_mode;
    next_on_line("Fit");
  }
  if (ImGui::Button("Fit")) fit_view();
  if (!g.video_mode()) {
    next_on_line("Export JSON");
    if (ImGui::Button("Export JSON")) facekeys_web::web_call0("exportJson");
    next_on_line("Export PNG");
    if (ImGui::Button("Export PNG")) facekeys_web::web_call0("exportPng");
  }

  ImGui::Separator();
  if (g.video_mode()) {
    const App::Video& v = g.video;
    ImGui::Text("faces: %d", static_cast<int>(v.shown.size()));
    for (const facekeys::TrackedFace& f : v.shown) {
      ImGui::SameLine();
      ImGui::Text("#%d", f.id);
    }
    ImGui::Text("%5.1f fps  %d frames, %d dropped", v.fps, v.frames, v.dropped);
    ImGui::Text("grab       %7.1f ms", v.t_grab);
    ImGui::Text("detect     %7.1f ms", v.t_detect);
    ImGui::Text("preprocess %7.1f ms", v.t_pre);
    ImGui::Text("infer      %7.1f ms", v.t_infer);
    ImGui::Text("total      %7.1f ms", v.t_total);
  } else {
    ImGui::Text("faces: %d", g.job ? static_cast<int>(g.job->faces().size()) : 0);
    ImGui::Text("decode     %7.1f ms", g.t_decode);
    ImGui::Text("detect     %7.1f ms", g.t_detect);
    ImGui::Text("preprocess %7.1f ms", g.t_pre);
    ImGui::Text("infer      %7.1f ms", g.t_infer);
    ImGui::Text("total      %7.1f ms", g.t_total);
  }
  ImGui::Separator();
  if (g.busy) ImGui::TextColored(ImVec4(1, 1, 0.4f, 1), "working...");
  if (g.status_error) ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1, 0.45f, 0.45f, 1));
  ImGui::TextWrapped("%s", g.status.c_str());  // wrapped: an error names a file and its problem
  if (g.status_error) ImGui::PopStyleColor();
  ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
  ImGui::TextWrapped(g.video_mode() ? "wheel: zoom, drag: pan" : "wheel: zoom, drag: pan, shift-drag: face box");
  ImGui::PopStyleColor();
  // The height is fitted to the previous frame's contents: draw once more when they changed.
  const float content_h = ImGui::GetCursorPosY();
  if (content_h != g.panel_content_h) redraw();
  g.panel_content_h = content_h;
  ImGui::End();
}

}  // namespace facekeys_app
