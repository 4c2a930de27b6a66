"""L2TL as in the paper (supplementary A): ImageNet source, a fine-grained target, Inception-V3.

Source: ImageNet (TFDS imagenet2012, all 1,000 classes; TFDS cannot download
it: prepare it by hand, then pass --config.l2tl.source_data.data_dir=DIR).
Target: Oxford-IIIT Pets (TFDS oxford_iiit_pet; 20 images per class held out
for the reward: 740, all of them used for every reward, since the paper's
B_P = 1,024 is more than there are). Encoder: Inception-V3 with ImageNet
weights and Inception's own input scaling ([-1, 1], `data.preprocessing=
'inception'`); h_S is its pretrained ImageNet classifier (TFDS and Keras
order ImageNet's classes alike, by synset id), so no source pre-training.
B_S = B_T = 256, M_S = 5, n = 11, n' = 100, beta = 0.5, gamma = 0.05, policy
Adam 1e-4, target SGD momentum 0.9 for 20,000 iterations (40 epochs of 500
steps): 2,000 warm-up steps (4 epochs), then cosine decay.

  python main.py --config=configs/l2tl_imagenet.py --workdir=runs/l2tl_pets \
      --config.l2tl.source_data.data_dir=DIR --config.data.data_dir=DIR

Not done: the paper's final protocol for datasets reported after training on
train + validation (retrain with the learned policy fixed). This config
reports the test accuracy of the run trained on the training split, the
validation split giving the reward, as the paper does for the others.
"""
from configs import common

SMOKE = {**common.SMOKE, "data.image_size": 75, "l2tl.source_data.image_size": 75,
         "l2tl.steps_per_epoch": 2}


def get_config():
  config = common.get_base_config()
  config.method = "l2tl"
  config.data.loader = "tfds"
  config.data.name = "oxford_iiit_pet"
  config.data.val_per_class = 20
  config.data.image_size = 299
  config.data.preprocessing = "inception"
  config.data.cache = False
  config.model.name = "keras:InceptionV3"
  config.model.weights = "imagenet"
  config.model.feature_layers = ("mixed2", "mixed7", "mixed10")
  config.train.batch_size = 256
  config.train.epochs = 40
  config.train.learning_rate = 0.01  # searched in the paper; a middle value
  config.train.weight_decay = 4e-5
  config.train.warmup_epochs = 4     # 2,000 steps

  source = config.l2tl.source_data
  source.loader = "tfds"
  source.name = "imagenet2012"
  source.test_split = "validation"
  source.image_size = 299
  source.preprocessing = "inception"
  source.cache = False
  config.l2tl.steps_per_epoch = 500
  config.l2tl.policy_batch_size = 0  # all 740 validation images
  config.l2tl.batch_multiplier = 5
  return config
