; Headless checks of plug-in-tensorlens-latent-samples with the tiny test
; autoencoder (@CARD@): a new image of the grid's size, and a new layer in
; an existing image. Markers as in saliency.scm; "TL-LATENT-DONE" at the end.
(define (check name ok)
  (gimp-message (string-append (if ok "TL-OK " "TL-FAIL ") name)))

(let* ((image (car (plug-in-tensorlens-latent-samples RUN-NONINTERACTIVE -1 -1
                     "@CARD@" "pmf" 3 6 3 16 1 "spacing=2 background=white")))
       (layer (car (gimp-image-get-active-layer image))))
  (check "latent: new image is the grid" (and (= (car (gimp-image-width image)) 56)
                                               (= (car (gimp-image-height image)) 38)))
  (check "latent: one layer, named" (and (= (car (gimp-image-get-layers image)) 1)
         (string=? (car (gimp-item-get-name layer)) "Latent samples — PMF (@CARD@, seed 3)")))
  (check "latent: background is white" (equal? (vector->list (cadr (gimp-drawable-get-pixel layer 0 0)))
                                               '(255 255 255 255)))
  (file-png-save2 RUN-NONINTERACTIVE image layer "@TMP@/gimp-latent.png" "gimp-latent.png"
                  0 9 0 0 0 0 0 0 0)
  (gimp-image-delete image))

(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "@DATA@/coffee-300x200.png" "c.png")))
       (drawable (car (gimp-image-get-active-drawable image)))
       (same (car (plug-in-tensorlens-latent-samples RUN-NONINTERACTIVE image drawable
                    "@CARD@" "gmm" 5 4 2 0 0 "components=2"))))
  (check "latent: new layer in the same image" (and (= same image)
                                                    (= (car (gimp-image-get-layers image)) 2)))
  (check "latent: layer is the grid (cells of the decoder's size)"
         (= (car (gimp-drawable-width (car (gimp-image-get-active-layer image)))) (+ (* 2 8) (* 3 2))))
  (gimp-image-delete image))
(gimp-message "TL-LATENT-DONE")
