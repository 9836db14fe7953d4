; Headless checks of plug-in-tensorlens-saliency (run by test-gimp.sh with
; @DATA@ and @TMP@ substituted). Each check prints "TL-OK name" or
; "TL-FAIL name" through gimp-message; "TL-DONE" marks the end.
(define (check name ok)
  (gimp-message (string-append (if ok "TL-OK " "TL-FAIL ") name)))

(define (load name)
  (car (gimp-file-load RUN-NONINTERACTIVE (string-append "@DATA@/" name) name)))

; The PDB opacity is the new layer's, 0..100 (GIMP stores it as a fraction).
(define (opacity? layer value)
  (< (abs (- (car (gimp-layer-get-opacity layer)) value)) 1e-6))

; RGB image, layer moved to (10, 20): the new layer has the same size and
; offsets, sits right above the drawable, and is named after method and model;
; its opacity is the PDB opacity, its mode normal. The op's overlay weight
; stays the op's 0.5 (test-gimp.sh renders the CLI's with the op's default):
; 30 must not leak into the pixels.
(let* ((image (load "astronaut-320.png"))
       (drawable (car (gimp-image-get-active-drawable image))))
  (gimp-layer-set-offsets drawable 10 20)
  (gimp-image-clean-all image)
  (let ((layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                      "centernet" "" "tsm" "overlay" "jet" 30.0 ""))))
    (check "rgb: layer name" (string=? (car (gimp-item-get-name layer))
                                       "Saliency — TSM (centernet)"))
    (check "rgb: layer opacity 30" (opacity? layer 30.0))
    (check "rgb: layer mode normal" (= (car (gimp-layer-get-mode layer)) LAYER-MODE-NORMAL))
    ; undo stays on and the image is marked as changed (the undo group is
    ; balanced: test-gimp.sh also greps GIMP's "inconsistent state" warning)
    (check "rgb: undo enabled, image dirty"
           (and (= (car (gimp-image-undo-is-enabled image)) TRUE)
                (= (car (gimp-image-is-dirty image)) TRUE)))
    (check "rgb: layer size" (and (= (car (gimp-drawable-width layer)) 320)
                                  (= (car (gimp-drawable-height layer)) 320)))
    (check "rgb: layer offsets" (equal? (gimp-drawable-offsets layer) '(10 20)))
    (check "rgb: two layers, new one on top"
           (and (= (car (gimp-image-get-layers image)) 2)
                (= (car (gimp-image-get-item-position image layer)) 0)))
    (check "rgb: layer type RGBA" (= (car (gimp-drawable-type layer)) RGBA-IMAGE))
    (file-png-save2 RUN-NONINTERACTIVE image layer "@TMP@/gimp-tsm-overlay.png"
                    "gimp-tsm-overlay.png" 0 9 0 0 0 0 0 0 0))
  (gimp-image-delete image))

; Method "all": one layer per method, first method on top, options parsed.
(let* ((image (load "coffee-300x200.png"))
       (drawable (car (gimp-image-get-active-drawable image)))
       (layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                     "emotion" "" "all" "heatmap" "viridis" 100.0 "sweeps=5 weighting=sigma2"))))
  (check "all: five layers" (= (car (gimp-image-get-layers image)) 5))
  (check "all: every new layer at opacity 100"
         (let ((layers (cadr (gimp-image-get-layers image))))
           (and (opacity? (vector-ref layers 0) 100.0) (opacity? (vector-ref layers 1) 100.0)
                (opacity? (vector-ref layers 2) 100.0) (opacity? (vector-ref layers 3) 100.0))))
  (check "all: returns the EigenCAM layer"
         (string=? (car (gimp-item-get-name layer)) "Saliency — EigenCAM (emotion)"))
  (check "all: MTSM layer right above the image"
         (string=? (car (gimp-item-get-name (vector-ref (cadr (gimp-image-get-layers image)) 3)))
                   "Saliency — MTSM (emotion)"))
  (file-png-save2 RUN-NONINTERACTIVE image layer "@TMP@/gimp-eigencam-heatmap.png"
                  "gimp-eigencam-heatmap.png" 0 9 0 0 0 0 0 0 0)
  (gimp-image-delete image))

;; The blend mode of the new layer: the plug-in's own option layer-mode=,
;; next to op properties in the same string.
(let* ((image (load "coffee-300x200.png"))
       (drawable (car (gimp-image-get-active-drawable image)))
       (layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                     "emotion" "" "eigencam" "heatmap" "jet" 50.0
                     "sweeps=5 layer-mode=multiply"))))
  (check "layer-mode: multiply" (= (car (gimp-layer-get-mode layer)) LAYER-MODE-MULTIPLY))
  (check "layer-mode: opacity 50 with it" (opacity? layer 50.0))
  (gimp-image-delete image))

;; Output overlay with the op's own weight as an option (opacity=, the op's
;; property, 0..1) and the layer's opacity and mode set apart from it.
(let* ((image (load "coffee-300x200.png"))
       (drawable (car (gimp-image-get-active-drawable image)))
       (layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                     "emotion" "" "eigencam" "overlay" "turbo" 75.0
                     "opacity=0.8 layer-mode=screen sweeps=5"))))
  (check "overlay weight option: layer opacity 75, mode screen"
         (and (opacity? layer 75.0) (= (car (gimp-layer-get-mode layer)) LAYER-MODE-SCREEN)))
  (file-png-save2 RUN-NONINTERACTIVE image layer "@TMP@/gimp-eigencam-overlay08.png"
                  "gimp-eigencam-overlay08.png" 0 9 0 0 0 0 0 0 0)
  (gimp-image-delete image))
(let* ((image (load "coffee-300x200.png"))
       (drawable (car (gimp-image-get-active-drawable image)))
       (layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                     "emotion" "" "eigencam" "heatmap" "jet" 50.0 ""))))
  (check "layer-mode: normal by default" (= (car (gimp-layer-get-mode layer)) LAYER-MODE-NORMAL))
  (gimp-image-delete image))

;; Grad-CAM of a chosen class (a label-dependent baseline) through options.
(let* ((image (load "coffee-300x200.png"))
       (drawable (car (gimp-image-get-active-drawable image)))
       (layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                     "emotion" "" "gradcam" "heatmap" "jet" 50.0 "target=3"))))
  (check "gradcam: layer name" (string=? (car (gimp-item-get-name layer))
                                         "Saliency — Grad-CAM (emotion)"))
  (gimp-image-delete image))

; Grey and indexed images, with alpha: layers of the image's own kind.
(let* ((image (load "chelsea-alpha.png"))
       (drawable (car (gimp-image-get-active-drawable image))))
  (gimp-image-convert-grayscale image)
  (let ((layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                      "emotion" "" "eigencam" "map" "jet" 50.0 ""))))
    (check "grey: GRAYA layer" (= (car (gimp-drawable-type layer)) GRAYA-IMAGE))
    (file-png-save2 RUN-NONINTERACTIVE image layer "@TMP@/gimp-grey-map.png"
                    "gimp-grey-map.png" 0 9 0 0 0 0 0 0 0))
  (gimp-image-delete image))

(let* ((image (load "coffee-300x200.png"))
       (drawable (car (gimp-image-get-active-drawable image))))
  (gimp-image-convert-indexed image CONVERT-DITHER-NONE CONVERT-PALETTE-GENERATE 64 FALSE FALSE "")
  (let ((layer (car (plug-in-tensorlens-saliency RUN-NONINTERACTIVE image drawable
                      "emotion" "" "eigencam" "heatmap" "gray" 50.0 ""))))
    (check "indexed: INDEXEDA layer" (= (car (gimp-drawable-type layer)) INDEXEDA-IMAGE)))
  (gimp-image-delete image))

(gimp-message "TL-DONE")
