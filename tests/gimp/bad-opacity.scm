; A layer opacity outside 0..100.
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "@DATA@/coffee-300x200.png" "c.png")))
       (drawable (car (gimp-image-get-active-drawable image))))
  (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
    "emotion" "" "eigencam" "heatmap" "jet" 150.0 ""))
