; An option that is not a number: execution error naming the option.
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "@DATA@/coffee-300x200.png" "c.png")))
       (drawable (car (gimp-image-get-active-drawable image))))
  (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
    "emotion" "" "tsm" "overlay" "jet" 50.0 "rank1=lots"))
