; A model that is not an autoencoder: execution error naming the problem.
(plug-in-tensorlens-latent-samples RUN-NONINTERACTIVE -1 -1 "emotion" "pmf" 1 4 2 16 1 "")
