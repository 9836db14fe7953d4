; Headless checks of plug-in-tensorlens-latent-samples with the tiny test
; autoencoder (@CARD@): a new image of the grid's size, and the grid
; filling the selection's bounds in an existing layer. Markers as in saliency.scm; "TL-LATENT-DONE" at the end.
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

;; new-image 0: the grid fills the selection's bounds in the active layer
;; (120x80 at (100, 50): 4 cells with spacing 2 fit as 3 columns of 37 px),
;; centred on the background; outside the selection nothing changes and no
;; layer is added.
(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE "@DATA@/coffee-300x200.png" "c.png")))
       (drawable (car (gimp-image-get-active-drawable image)))
       (pixel (lambda (x y) (vector->list (cadr (gimp-drawable-get-pixel drawable x y)))))
       (before (pixel 5 5)))
  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 100 50 120 80)
  (let ((same (car (plug-in-tensorlens-latent-samples RUN-NONINTERACTIVE image drawable
                    "@CARD@" "gmm" 5 4 0 0 0 "components=2 background=white spacing=2"))))
    (check "latent fill: the same image, no new layer"
           (and (= same image) (= (car (gimp-image-get-layers image)) 1)))
    (check "latent fill: outside the selection unchanged" (equal? (pixel 5 5) before))
    (check "latent fill: spacing at the selection's corner is the background"
           (equal? (pixel 100 50) '(255 255 255)))
    (check "latent fill: a decoded cell inside the selection"
           (not (equal? (pixel 120 70) '(255 255 255)))))
  (gimp-image-delete image))
(gimp-message "TL-LATENT-DONE")
