; A model path that does not exist: the call fails with an execution error
; whose message names the path; GIMP keeps running (TL-ALIVE comes after).
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "@DATA@/coffee-300x200.png" "c.png")))
       (drawable (car (gimp-image-get-active-drawable image))))
  (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
    "/nonexistent/model.onnx" "" "tsm" "overlay" "jet" 50.0 ""))
