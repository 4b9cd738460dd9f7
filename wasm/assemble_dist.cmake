# cmake -P script run by the web_dist target: assembles the static site.
# Inputs: DIST SRC APP_JS ORT_DIR MODELS_DIR DEFAULT_MODEL DETECTOR_DIR.
# dist/ is rebuilt from scratch each time so removed models do not linger.
cmake_minimum_required(VERSION 3.18)
foreach(v DIST SRC APP_JS ORT_DIR DETECTOR_DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "assemble_dist: ${v} not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${DIST}")
file(MAKE_DIRECTORY "${DIST}")

# The shell and the glue; the cross-origin isolation service worker (coi-sw.js) at the site root:
# a service worker controls only its own folder and below
file(COPY "${SRC}/web/index.html" "${SRC}/web/style.css" "${SRC}/web/coi.js" "${SRC}/web/coi-sw.js"
          "${SRC}/wasm/app_glue.js" "${SRC}/wasm/onnx_worker.js" "${SRC}/wasm/camera_worker.js" "${SRC}/wasm/frame_rgba.js" DESTINATION "${DIST}")
# The app
get_filename_component(app_dir "${APP_JS}" DIRECTORY)
get_filename_component(app_name "${APP_JS}" NAME_WE)
file(COPY "${APP_JS}" "${app_dir}/${app_name}.wasm" DESTINATION "${DIST}")
# ONNX Runtime Web (WebAssembly backend only)
foreach(f ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm)
  if(NOT EXISTS "${ORT_DIR}/${f}")
    message(FATAL_ERROR "assemble_dist: ${ORT_DIR}/${f} missing: run `ONNXRUNTIME_NODE_INSTALL=skip npm ci`")
  endif()
  file(COPY "${ORT_DIR}/${f}" DESTINATION "${DIST}/ort")
endforeach()

# The face detector
if(NOT EXISTS "${DETECTOR_DIR}/version-RFB-320.onnx")
  message(FATAL_ERROR "assemble_dist: face detector ${DETECTOR_DIR}/version-RFB-320.onnx missing")
endif()
file(COPY "${DETECTOR_DIR}/version-RFB-320.onnx" DESTINATION "${DIST}/detectors/ultraface")
if(EXISTS "${DETECTOR_DIR}/LICENSE")
  file(COPY "${DETECTOR_DIR}/LICENSE" DESTINATION "${DIST}/detectors/ultraface")
endif()

# The keypoint models: every MODELS_DIR/<name>/ with model.json + model.onnx
set(ids "")
if(MODELS_DIR AND IS_DIRECTORY "${MODELS_DIR}")
  file(GLOB cards RELATIVE "${MODELS_DIR}" "${MODELS_DIR}/*/model.json")
  list(SORT cards)
  foreach(c ${cards})
    get_filename_component(id "${c}" DIRECTORY)
    if(NOT EXISTS "${MODELS_DIR}/${id}/model.onnx")
      message(WARNING "assemble_dist: ${MODELS_DIR}/${id} has no model.onnx: skipped")
      continue()
    endif()
    file(COPY "${MODELS_DIR}/${id}/model.json" "${MODELS_DIR}/${id}/model.onnx" DESTINATION "${DIST}/models/${id}")
    list(APPEND ids "${id}")
  endforeach()
endif()
if(NOT ids)
  message(WARNING "assemble_dist: no models in '${MODELS_DIR}' (one folder per model with model.onnx + "
                  "model.json): the page will say so. Set -DFACEKEYS_WEB_MODELS_DIR=...")
endif()
# The default: FACEKEYS_WEB_DEFAULT_MODEL (must be among the models), else the name in
# MODELS_DIR/DEFAULT (a one-line file naming a folder; `facekeys predict` reads the same file).
# index.json carries that name as it is; the page picks the default with the core's
# default_model_name (facekeys/model_card.hpp), the rule `facekeys predict` uses: the named
# folder, else the first model in name order.
set(default "")
if(DEFAULT_MODEL)
  list(FIND ids "${DEFAULT_MODEL}" di)
  if(di LESS 0)
    message(FATAL_ERROR "assemble_dist: FACEKEYS_WEB_DEFAULT_MODEL '${DEFAULT_MODEL}' is not among the models: ${ids}")
  endif()
  set(default "${DEFAULT_MODEL}")
elseif(EXISTS "${MODELS_DIR}/DEFAULT")
  file(STRINGS "${MODELS_DIR}/DEFAULT" default LIMIT_COUNT 1)
  string(STRIP "${default}" default)
  list(FIND ids "${default}" di)
  if(default AND ids AND di LESS 0)
    message(WARNING "assemble_dist: ${MODELS_DIR}/DEFAULT names '${default}', which is not among the models "
                    "(${ids}): the page falls back to the first in name order, as `facekeys predict` does")
  endif()
endif()
set(json "{\"default\": \"${default}\", \"models\": [")
set(sep "")
foreach(id ${ids})
  string(APPEND json "${sep}\"${id}\"")
  set(sep ", ")
endforeach()
string(APPEND json "]}\n")
file(WRITE "${DIST}/models/index.json" "${json}")
list(LENGTH ids n)
message(STATUS "facekeys: dist/ at ${DIST} with ${n} model(s), default named '${default}'")
