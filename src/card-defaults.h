/* A card for an ONNX file that has no sidecar JSON: sensible defaults read
 * from the graph, so a user's own network works without writing a card.
 *
 *   input     the single graph input, which must be N×C×H×W with C = 1 or 3
 *             (NCHW; N symbolic or 1): C = 3 → rgb, C = 1 → gray with
 *             weights 0.299, 0.587, 0.114; half-pixel bilinear resize;
 *             scale 1/255, mean 0, std 1 (pixels fed in 0..1), no padding
 *   task      the first graph output 2-D 1×K with K ≥ 2 → classifier with
 *             labels "0".."K−1", explained by its logit; anything else →
 *             embedding, explained by the cosine of the first output
 *   layer     the engine's default target layer (methods.md: the last 4-D
 *             feature map with H, W > 1 before the first flattening/pooling)
 *   outputs   every graph output, keyed by its tensor name
 *   pairs     "S-encoder.onnx" / "S-decoder.onnx" next to each other are one
 *             autoencoder: latent dim from the encoder's 1×D output, output
 *             geometry from the decoder's 1×C×H×W output, values in 0..1,
 *             latent bank "S-latents.npy" (required: sampling draws near it)
 *   files     none (there is nothing to check a checksum against);
 *             license and attribution "unknown"
 *
 * Graphs that do not fit (no 4-D input, 2 or > 3 channels, several inputs,
 * no feature map to explain, a pair without its bank) give a TL_ERROR that
 * names the file and says what to put in a card instead. */
#pragma once
#include "card.h"
#include "tl-net.h"

/* Gray conversion of a card without gray_weights (ITU-R BT.601 luma, as PIL's "L"). */
#define TL_CARD_DEFAULT_GRAY_WEIGHTS { 0.299, 0.587, 0.114 }

/* Defaults for the ONNX file at onnx_path (loads what it needs). */
tl_card *tl_card_defaults_for_model (const char *onnx_path, GError **error);
/* Same for a network already loaded from onnx_path (not an autoencoder
 * half: those need both files and go through tl_card_defaults_for_model). */
tl_card *tl_card_defaults_for_net (const char *onnx_path, const tl_net *net, GError **error);
/* For "S-encoder.onnx" or "S-decoder.onnx", the stem path "S" (free it);
 * NULL for any other name. */
char    *tl_card_pair_stem (const char *onnx_path);
