; The layer's opacity (0..100) written as the op's opacity option (0..1):
; an error saying which is which.
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "@DATA@/coffee-300x200.png" "c.png")))
       (drawable (car (gimp-image-get-active-drawable image))))
  (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
    "emotion" "" "eigencam" "overlay" "jet" 50.0 "opacity=50"))
