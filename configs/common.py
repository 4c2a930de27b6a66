"""Defaults shared by every experiment: the paper's settings (supplementary B)."""
import importlib

import ml_collections

from l2t_tf.dotted import locate

# Table 1's target datasets: `--config=configs/paper_table1.py:<name>`.
PAPER_DATASETS = ("stl10", "cifar100", "cub200", "mit67", "stanford40",
                  "stanford_dogs")


# Every config file has a SMOKE setting: dotted overrides (as --config.a.b=v
# would set them) that make it run in seconds on a CPU, for the tests and for
# a user checking a setup (`--config.train.epochs=1 ...`). This is the shrink
# most start from: one epoch of a few tiny batches, a narrow model, one seed.
SMOKE = {"data.images_per_class": 8, "data.val_per_class": 4, "model.width": 0.0625,
         "train.batch_size": 8, "train.epochs": 1, "train.verbose": 0,
         "export.enabled": False, "grid.seeds": (0,)}


def with_overrides(config: ml_collections.ConfigDict,
                   overrides: dict) -> ml_collections.ConfigDict:
  """`config` with each dotted field of `overrides` set (a field must exist)."""
  for dotted, value in overrides.items():
    node, name = locate(config, dotted)
    if name not in node:
      raise KeyError(f"{dotted} is not a config field")
    node[name] = value
  return config


def paper_dataset(name: str) -> ml_collections.ConfigDict:
  """The single-run config of one of the paper's target datasets (configs/<name>.py)."""
  if name not in PAPER_DATASETS:
    raise ValueError(f"unknown dataset '{name}': append one of "
                     f"{', '.join(PAPER_DATASETS)} to the config file, e.g. "
                     "--config=configs/paper_table1.py:cub200")
  return importlib.import_module(f"configs.{name}").get_config()


def data_defaults() -> ml_collections.ConfigDict:
  """Where the images come from and how they are split and preprocessed."""
  data = ml_collections.ConfigDict()
  # How the images are read (l2t_tf/data/sources.py; was `data.source`):
  # tfds | folder | lists | idx | embedded | digits | garments_digits |
  # digits_scrambled.
  data.loader = "tfds"
  data.name = ""              # TFDS name
  data.path = ""              # folder root, list-file dataset root or IDX directory
  # source 'lists': split -> list-file pattern under data.path, images under
  # data.path/data.image_dir (see configs/mit67.py, configs/stanford40.py).
  data.split_lists = ml_collections.ConfigDict({"train": "", "test": ""})
  data.image_dir = ""
  data.data_dir = ""          # TFDS data_dir
  data.download = False       # let TFDS download (needs internet)
  data.train_split = "train"
  data.test_split = "test"
  data.classes = ()           # original label ids to keep, in order
  data.images_per_class = 0   # 0 = all remaining after validation
  data.val_per_class = 50     # held out from train
  # Of those, the meta set of meta_objective alignment or heldout_lookahead
  # (never used for model selection); meta_into_train: train on it instead.
  data.meta_per_class = 0
  data.meta_into_train = False
  # Train on the training images' labels permuted at random (once, by
  # split_seed): how configs/fashion_mnist_source.py:scrambled makes a source
  # that memorised noise about the target's own images (issue #24).
  data.scramble_train_labels = False
  data.skip_first_per_class = 0  # leave out each class's first N train images
  data.split_seed = 0         # fixed across runs, like the reference's split files
  data.image_size = 32
  data.channels = 3
  data.preprocessing = "cifar"  # cifar (32x32) | imagenet (224x224)
  data.cache = True
  return data


def get_base_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  # scratch | finetune | lwf | at | lwf_at | kd | jm | fm | l2t_w | l2t_ww | l2tl.
  # Empty: run `compare` one after another.
  config.method = "scratch"
  config.compare = ()
  config.seed = 0
  config.deterministic = False

  config.data = data_defaults()

  config.model = ml_collections.ConfigDict()
  config.model.name = "vgg9"         # see l2t_tf/models/backbones.py
  config.model.width = 1.0           # channel multiplier
  config.model.feature_layers = ()   # for 'keras:<Application>' models
  config.model.weights = ""          # for 'keras:<Application>': 'imagenet' or ''
  config.model.stem_point = False    # resnet18/34: the stem output is a point too
  # reference: the authors' PyTorch initialisers (He-normal fan-out convs,
  # N(0, 0.01) VGG classifier, PyTorch's default dense/regressor init);
  # keras: Keras's defaults (l2t_tf 0.1). See docs/results.md (issue #18).
  config.model.init = "reference"
  config.model.unbiased_moving_variance = False  # True: PyTorch's running var

  config.train = ml_collections.ConfigDict()
  config.train.batch_size = 128
  config.train.epochs = 200
  config.train.learning_rate = 0.1
  config.train.warmup_epochs = 0     # linear lr warm-up (0: the paper's schedule)
  config.train.momentum = 0.9
  # pytorch: v <- m v + g, w <- w - lr v (the reference); keras: v <- m v - lr g.
  config.train.momentum_rule = "pytorch"
  config.train.schedule_unit = "step"  # cosine per step, or per epoch (reference)
  config.train.weight_decay = 1e-4
  config.train.jit_compile = "auto"  # auto (XLA on GPU only) | true | false
  config.train.strategy = "auto"     # auto | default | mirrored | multi_worker
  config.train.verbose = 1           # Keras progress bar: 0 silent, 1 bar, 2 line
  # The test set is evaluated once, at the end, on the best-on-validation
  # weights and on the last ones; True also evaluates it after every epoch.
  config.train.test_every_epoch = False
  # Which weights the run keeps (tests, saves as model.keras, exports):
  # best_val (the best validation epoch's) or last.
  config.train.keep_weights = "best_val"

  config.transfer = ml_collections.ConfigDict()
  config.transfer.source_paths = ()  # .keras files of pretrained sources
  config.transfer.matching = "all_to_all"  # single | one_to_one | all_to_all
  # explicit pairs: labels "m_n" as lambdas.json names them (source point m,
  # target point n, from 1; "sK.m_n" for source K) or (source layer, target
  # layer) names; overrides matching
  config.transfer.pairs = ()
  config.transfer.beta = 0.5
  config.transfer.inner_steps = 2    # T
  config.transfer.scheme = "three_stage"  # three_stage | two_stage (Table 4)
  config.transfer.meta = "networks"  # networks | constants (Table 3)
  # reference (the paper's random kernel) | neutral (every lambda = 1): no
  # better in accuracy at 5 seeds (docs/results.md, configs/where_init.py).
  config.transfer.where_init = "reference"
  # relu6 (paper) | softplus (never 0) | share (mean lambda 1: phi moves
  # strength between pairs, never adds it)
  config.transfer.where_activation = "relu6"
  # pooled (paper) | standardised (each sample's pooled vector to mean 0, std
  # 1 over channels: a kernel step no longer moves lambda by the channel sum)
  config.transfer.meta_inputs = "pooled"
  config.transfer.freeze_meta = False  # phi kept at its start: the ablation
  config.transfer.meta_learning_rate = 1e-4
  config.transfer.meta_weight_decay = 1e-4
  config.transfer.meta_beta_2 = 0.999  # Adam's beta_2 for phi (PyTorch default)
  config.transfer.meta_every = 1     # meta step every k batches (1 = paper)
  config.transfer.meta_start_epoch = 0.0  # no meta step before (0 = paper)
  config.transfer.first_order = False  # first-order look-ahead (False = paper)
  # lookahead: the paper's CE on the training batch after T + 1 look-ahead
  # steps; heldout_lookahead: the same, CE on the held-out meta set;
  # alignment: first order, the alignment of each pair's matching gradient
  # with the meta set's CE gradient. The last two need data.meta_per_class.
  config.transfer.meta_objective = "lookahead"
  config.transfer.placebo = False    # flip phi's meta-gradient (drift control)
  # The look-ahead's step size; 0 = the current (decayed) training rate, the
  # paper's, which makes both look-ahead estimators vanish as it decays.
  config.transfer.lookahead_lr = 0.0
  # Hand-crafted baselines (lwf, at, lwf_at, kd, jm):
  config.transfer.at_weight = 1000.0   # AT's beta; each pair counts beta / 2
  config.transfer.lwf_weight = 1.0     # LwF's old-task loss weight
  config.transfer.kd_weight = 1.0
  config.transfer.jm_weight = 1.0
  config.transfer.temperature = 2.0    # softened outputs (LwF's T = 2)

  # L2TL (method 'l2tl'): joint training on a source *dataset* with class
  # weights from an RL policy (Zhu et al.; supplementary A's values).
  config.l2tl = ml_collections.ConfigDict()
  config.l2tl.source_data = data_defaults()  # the source dataset
  config.l2tl.source_data.val_per_class = 0
  # learned | random | uniform | fixed | finetune. fixed: lambda 1 for the
  # classes named in `fixed_classes` (names, or prefixes such as "digit:"),
  # 0 for the rest; the known answer's helpful-only and harmful-only rows.
  config.l2tl.class_weights = "learned"
  config.l2tl.fixed_classes = ()
  config.l2tl.actions = 11           # n: lambda(y) in {0, 0.1, ..., 1}
  config.l2tl.alpha_actions = 100    # n': alpha_s in {0, ..., alpha_max}
  config.l2tl.alpha_max = 0.5        # beta
  config.l2tl.baseline_decay = 0.05  # gamma
  config.l2tl.entropy_weight = 1e-3  # not given in the paper: ours
  config.l2tl.policy_learning_rate = 1e-4
  # accuracy | auc (mean one-vs-rest) | neg_cross_entropy (continuous).
  config.l2tl.reward = "accuracy"
  # How the policy's gradient is estimated (l2t_tf/trainers/l2tl.py):
  # reinforce (the paper) | antithetic (lambda and its mirror from one state
  # and batch, each scored after a look-ahead step) | alignment (per class
  # <grad CE_val, grad CE_source,k>, no reward, no sampling noise).
  config.l2tl.estimator = "reinforce"
  config.l2tl.placebo = False        # the control: the signal's sign flipped
  config.l2tl.batch_multiplier = 5   # M_S
  config.l2tl.source_batch_size = 0  # B_S (0: train.batch_size, B_T)
  # B_P, validation images per reward; 0: the whole validation set, the same
  # images every step (the paper's 1024 assumes a validation set that large).
  config.l2tl.policy_batch_size = 0
  config.l2tl.pretrain_steps = 0     # N_S source-only steps (0: g pretrained)
  # separate: target and source batches normalised on their own, the moving
  # statistics the target's (footnote 2); shared: one mixed pass (control).
  config.l2tl.batch_norm = "separate"
  config.l2tl.steps_per_epoch = 0    # 0: one pass over the target training set

  # An experiment grid (l2t_tf/grid.py): set `variants` to run one.
  config.grid = ml_collections.ConfigDict()
  config.grid.variants = ()          # ((name, ((field, value), ...)), ...)
  config.grid.column = ""            # a field whose values are the table's columns
  config.grid.column_values = ()
  config.grid.seeds = (0, 1, 2)

  config.checkpoint = ml_collections.ConfigDict()
  config.checkpoint.every_steps = 0  # also save every N batches (0: epoch ends only)
  config.checkpoint.keep = 2         # newest checkpoints kept

  config.export = ml_collections.ConfigDict()
  config.export.enabled = True       # SavedModel for TF Serving after training
  config.export.base_dir = ""        # default: WORKDIR/export
  config.export.model_name = "target"
  config.export.version = 0          # 0: the next free version
  return config
