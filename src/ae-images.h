/* Images through an autoencoder and a feature network, in batches: what
 * `tensorlens eval-sampling MODEL` needs to turn sampled latents into FID,
 * precision and recall (methods.md, Part B), and held-out images into the
 * held-out latents the latent-space measures compare against.
 *
 * Images travel as N x C x H x W float tensors with values in [0,1] in the
 * autoencoder's output geometry (the card's autoencoder.output), which for
 * the shipped autoencoders is also its input geometry: a real image is
 * resized to the card's inner input size, converted to its channels and
 * framed by the card's zero padding, so real and decoded images are
 * directly comparable (decoded ones come from tl_ae_decode, ae-decode.h)
 * and go through one feature path:
 *
 *   crop (autoencoder.feature_crop, default the whole image) -> the feature
 *   model's own preprocessing (tl_preprocess: resize, colour, scale, mean,
 *   std) -> its "features" output if its card names one, else the global
 *   average of its target layer (the last feature map, as for EigenCAM).
 */
#pragma once
#include <glib.h>
#include <stdint.h>

#include "card.h"
#include "tensor.h"

/* At most this many images are read from a data set (a bound on work and
 * on memory: 2^18 x 3 x 32 x 32 floats is 3 GB). */
#define TL_AE_MAX_IMAGES (1 << 18)
/* Batch size of the encoder and feature runs, and of eval-sampling's
 * decoding (tl_ae_decode, ae-decode.h). */
#define TL_AE_BATCH 64

/* The images of path, at most max (0 = all, up to TL_AE_MAX_IMAGES): an IDX
 * image file (MNIST / Fashion-MNIST format, ".gz" read transparently) or a
 * directory of PNG / JPEG files (read in name order; alpha is dropped). The
 * card must be an autoencoder whose input and output geometry agree. */
tl_tensor *tl_ae_load_images (const tl_card *ae, const char *path, int64_t max,
                              GError **error);

/* n x latent_dim latents of images (N x C x H x W in [0,1]), by the card's
 * encoder with its normalisation (pixel·255·scale − mean) / std; the padding
 * frame is zero in the model input. */
tl_tensor *tl_ae_encode (const tl_card *ae, const tl_tensor *images, GError **error);

typedef struct tl_feature_net tl_feature_net;

/* The feature network named by card_path (a card, or a bundled name),
 * applied to crop (x, y, w, h) of every image. */
tl_feature_net *tl_feature_net_new (const char *card_path, const int crop[4], GError **error);
void            tl_feature_net_free (tl_feature_net *f);
/* Feature dimension, and the tensor the features are read from. */
int64_t         tl_feature_net_dim (const tl_feature_net *f);
const char     *tl_feature_net_tensor (const tl_feature_net *f);
const char     *tl_feature_net_name (const tl_feature_net *f);
/* n x dim features of images (N x C x H x W in [0,1]). */
tl_tensor      *tl_feature_net_run (tl_feature_net *f, const tl_tensor *images, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (tl_feature_net, tl_feature_net_free)
