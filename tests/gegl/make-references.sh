#!/bin/sh
# Regenerates tests/gegl/compositions/reference/*.png with the LIBRARY
# pipeline (explain-png: tl_explain_image + tl_explanation_render, no GEGL),
# so the XML compositions rendered by the op are checked against an
# independent front end. Usage (from the source root, after a build):
#   tests/gegl/make-references.sh build/tests/gegl/explain-png build/tests/gegl/generate-png
set -eu
exe=$1
gen=$2
d=tests/data/gegl
r=tests/gegl/compositions/reference
export TENSORLENS_MODELS_DIR=$PWD/models:$PWD/tests/data/generate
"$exe" $d/astronaut-320.png centernet tsm overlay jet 0.5 8 $r/saliency-tsm-overlay.png
"$exe" $d/coffee-300x200.png centernet eigencam heatmap turbo 0.5 8 $r/saliency-eigencam-heatmap.png
"$exe" $d/chelsea-alpha.png emotion mtsm masked jet 0.5 8 $r/saliency-mtsm-masked-alpha.png
"$gen" tiny-ae pmf 11 7 3 24 3 $r/latent-pmf-grid.png
