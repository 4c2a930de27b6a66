"""Raw labelled examples from TFDS, image folders, IDX files or the embedded subset.

Every source returns an `Examples`: the labels as a numpy array (so subsets can
be chosen deterministically without decoding images) and a way to make a
`tf.data.Dataset` of `(image, label)` for any chosen indices. Images are uint8
arrays, or encoded bytes (`encoded=True`) to be decoded after caching.
"""
import dataclasses
import gzip
import os
import pathlib
from typing import Callable, Sequence

import numpy as np
import tensorflow as tf

from l2t_tf import storage
from l2t_tf.errors import UserError

EMBEDDED_PATH = pathlib.Path(__file__).resolve().parent.parent / "assets" / (
    "fashion_mnist_subset.npz")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


@dataclasses.dataclass
class Examples:
  labels: np.ndarray                      # int64 [n], original label ids
  class_names: Sequence[str]              # indexed by original label id
  make: Callable[[np.ndarray], tf.data.Dataset]  # indices -> (image, label)
  encoded: bool = False                   # images are encoded bytes


def _from_arrays(images: np.ndarray, labels: np.ndarray, class_names) -> Examples:
  if images.ndim == 3:
    images = images[..., None]
  labels = labels.astype(np.int64)
  return Examples(labels, class_names,
                  lambda idx: tf.data.Dataset.from_tensor_slices(
                      (images[idx], labels[idx])))


def read_idx(path: str) -> np.ndarray:
  """Reads an IDX file (optionally gzipped), as in the MNIST distributions."""
  data = storage.read_bytes(path)
  if path.endswith(".gz"):
    try:
      data = gzip.decompress(data)
    except (OSError, EOFError):
      raise UserError(f"{path} is not a complete gzip file (truncated?)",
                      "download or reinstall the dataset files") from None
  if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
    raise UserError(f"{path} is not an unsigned-byte IDX file",
                    "point data.path at the Fashion-MNIST *-idx?-ubyte(.gz) files")
  ndim = data[3]
  shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big")
                for i in range(ndim))
  array = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
  if array.size != int(np.prod(shape)):
    raise UserError(f"{path} is truncated ({array.size} of {np.prod(shape)} "
                    "values)", "download or reinstall the dataset files")
  return array.reshape(shape)


def _idx_split(path: str, split: str) -> Examples:
  prefix = {"train": "train", "test": "t10k"}.get(split)
  if prefix is None:
    raise UserError(f"IDX data has no split '{split}'", "use 'train' or 'test'")
  files = {}
  for kind, idx in (("images", "idx3"), ("labels", "idx1")):
    candidates = [os.path.join(path, f"{prefix}-{kind}-{idx}-ubyte{ext}")
                  for ext in (".gz", "")]
    found = [c for c in candidates if storage.exists(c)]
    if not found:
      raise UserError(f"no {candidates[0]} (or unzipped) found",
                      "install Debian's dataset-fashion-mnist or set "
                      "--config.data.path to the folder holding the IDX files")
    files[kind] = read_idx(found[0])
  if len(files["images"]) != len(files["labels"]):
    raise UserError(f"the {split} IDX files under {path} hold "
                    f"{len(files['images'])} images but {len(files['labels'])} labels",
                    f"put the matching {prefix}-images and {prefix}-labels files "
                    "side by side")
  return _from_arrays(files["images"], files["labels"], FASHION_MNIST_CLASSES)


def _embedded_split(split: str) -> Examples:
  with np.load(EMBEDDED_PATH) as data:
    if f"{split}_images" not in data:
      raise UserError(f"the embedded dataset has no split '{split}'",
                      "use 'train' or 'test'")
    return _from_arrays(data[f"{split}_images"], data[f"{split}_labels"],
                        FASHION_MNIST_CLASSES)


# The first bytes of the formats tf.io.decode_image reads, and what each
# complete file has near its end (JPEG's end-of-image marker, PNG's IEND
# chunk, GIF's trailer; BMP has none to check), found within TAIL bytes.
_IMAGE_SIGNATURES = {b"\xff\xd8\xff": b"\xff\xd9", b"\x89PNG\r\n\x1a\n": b"IEND",
                     b"GIF87a": b"\x3b", b"GIF89a": b"\x3b", b"BM": b""}
_TAIL = 1024


def _looks_like_an_image(path: str) -> bool:
  """Whether the file starts and ends as an image does (catches empty, text,
  HTML and truncated files without decoding them)."""
  head, tail = storage.ends(path, 8, _TAIL)
  return any(head.startswith(start) and end in tail
             for start, end in _IMAGE_SIGNATURES.items())


def _folder_split(root: str, split: str) -> Examples:
  """`root/split/class/*.jpg`; classes are the sorted sub-folders of the train split."""
  split_dir = os.path.join(root, split)
  if not storage.isdir(split_dir):
    raise UserError(f"image folder {split_dir} does not exist",
                    "set --config.data.path to a folder laid out as "
                    "root/<split>/<class>/*.jpg")
  train_dir = os.path.join(root, "train")
  in_split = _subfolders(split_dir)
  class_names = _subfolders(train_dir) if storage.isdir(train_dir) else in_split
  unknown = sorted(set(in_split) - set(class_names))
  if unknown:  # its images would be left out of the split without a word
    raise UserError(f"{split_dir} has class folder(s) {unknown[:3]} that "
                    f"{train_dir} lacks", "give both splits the same class folders")
  paths, labels = [], []
  for label, name in enumerate(class_names):
    folder = os.path.join(split_dir, name)
    if name not in in_split:
      continue
    for file in sorted(storage.listdir(folder)):
      path = os.path.join(folder, file)
      if storage.isdir(path):  # images one level down would be dropped
        if _holds_images(path):
          raise UserError(f"class folder {folder} holds images in its sub-folder "
                          f"{file}; the folder loader reads "
                          "root/<split>/<class>/<image> only",
                          f"move them up into {folder}, or make {file} a class "
                          f"of its own next to {name}")
        continue
      if file.lower().endswith(IMAGE_EXTENSIONS):
        paths.append(path)
        labels.append(label)
  if not paths:
    raise UserError(f"no images found under {split_dir}",
                    "put images in root/<split>/<class>/ with extensions "
                    f"{IMAGE_EXTENSIONS}")
  return _image_files(paths, labels, class_names, split_dir)


def _holds_images(folder: str) -> bool:
  return any(name.lower().endswith(IMAGE_EXTENSIONS)
             for _, _, names in storage.walk(folder) for name in names)


def _subfolders(folder: str) -> list[str]:
  return sorted(d for d in storage.listdir(folder)
                if storage.isdir(os.path.join(folder, d)))


# Up to this many image files are decoded once when a dataset is opened, so
# that a file corrupt after an intact header is named before training rather
# than failing inside `fit`; larger datasets get the signature check only.
DECODE_CHECK_MAX = 20000


def _unreadable(path: str) -> bool:
  """Whether `path` cannot be opened as a file (a dangling link, no access)."""
  try:
    return not _looks_like_an_image(path)
  except (OSError, tf.errors.OpError):
    return True


def _undecodable(path: str) -> bool:
  try:
    tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
    return False
  except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
    return True


def _image_files(paths, labels, class_names, where: str) -> Examples:
  """Examples reading encoded image files, once each file is known to be an image."""
  broken = [p for p in paths if _unreadable(p)]
  if not broken and len(paths) <= DECODE_CHECK_MAX:
    broken = [p for p in paths if _undecodable(p)]
  if broken:
    raise UserError(f"{len(broken)} file(s) under {where} cannot be read as JPEG, "
                    f"PNG, GIF or BMP images (empty, corrupt, truncated or a "
                    f"broken link), e.g. {broken[0]}", "remove or replace them")
  paths, labels = np.array(paths), np.array(labels, np.int64)
  return Examples(labels, class_names, lambda idx: tf.data.Dataset.from_tensor_slices(
      (paths[idx], labels[idx])).map(
          lambda p, y: (tf.io.read_file(p), y)), encoded=True)


def _list_entries(root: str, pattern: str, image_dir: str) -> list[tuple[str, str]]:
  """(image path, class name) for every line of the list files matching `pattern`.

  A pattern with `*` (Stanford40's ImageSplits/*_train.txt) names the class
  in the file name; otherwise each line starts with its class folder
  (MIT67's TrainImages.txt: kitchen/int474.jpg).
  """
  folder, name_pattern = os.path.split(os.path.join(root, pattern))
  files = storage.find(folder, name_pattern)
  if not files:
    raise UserError(f"no split list {os.path.join(root, pattern)}",
                    "set --config.data.path to the dataset's root folder (it holds "
                    "the split lists) or fix data.split_lists")
  prefix, _, suffix = os.path.basename(pattern).partition("*")
  entries = []
  for file in files:
    base = os.path.basename(file)
    in_name = base[len(prefix):len(base) - len(suffix)]
    lines = [l.split()[0].replace("\\", "/")
             for l in storage.read_text(file).splitlines() if l.strip()]
    for line in lines:
      if "*" not in pattern and "/" not in line:
        raise UserError(f"{file} lists {line} without a class folder",
                        "use a list pattern with * where the file name holds the class")
      name = in_name if "*" in pattern else line.split("/")[0]
      entries.append((os.path.join(root, image_dir, line), name))
  return entries


def _list_split(data_config, split: str) -> Examples:
  """Images named by the dataset's own split lists (MIT67, Stanford40)."""
  lists = data_config.split_lists
  empty = [name for name in ("train", split) if not lists.get(name)]
  if empty:
    raise UserError(f"data.split_lists has no '{empty[0]}' list file pattern "
                    "(the lists loader reads the dataset's own split lists)",
                    f"set e.g. --config.data.split_lists.{empty[0]}="
                    f"'{'TrainImages' if empty[0] == 'train' else 'TestImages'}.txt' "
                    "(configs/mit67.py and stanford40.py show both kinds)")
  if not data_config.path:
    raise UserError("data.loader='lists' needs data.path",
                    "pass --config.data.path=/path/to/dataset")
  class_names = sorted({name for _, name in _list_entries(
      data_config.path, lists["train"], data_config.image_dir)})
  entries = _list_entries(data_config.path, lists[split], data_config.image_dir)
  unknown = sorted({name for _, name in entries} - set(class_names))
  if unknown:
    raise UserError(f"the {split} lists name classes the train lists do not, "
                    f"e.g. {unknown[0]}", "use the dataset's own split lists")
  missing = [p for p, _ in entries if not storage.isfile(p)]
  if missing:
    raise UserError(f"{len(missing)} listed image(s) are missing, e.g. {missing[0]}",
                    "set data.path and data.image_dir to where the images are")
  index = {name: label for label, name in enumerate(class_names)}
  return _image_files([p for p, _ in entries], [index[n] for _, n in entries],
                      class_names, data_config.path)


def _tfds_split(name: str, split: str, data_dir: str | None,
                download: bool) -> Examples:
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  try:
    builder = tfds.builder(name, data_dir=data_dir)
  except Exception as e:  # DatasetNotFoundError and friends
    raise UserError(f"TFDS has no dataset '{name}' ({type(e).__name__})",
                    "check data.name against `tfds.list_builders()`") from None
  try:
    if download:
      builder.download_and_prepare()
    ds = builder.as_dataset(split=split, shuffle_files=False,
                            decoders={"image": tfds.decode.SkipDecoding()})
  except Exception as e:
    first_line = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
    raise UserError(
        f"TFDS could not load '{name}' split '{split}' ({first_line})",
        "prepare it where there is internet (`tfds build "
        f"{name} --data_dir=DIR`) and pass --config.data.data_dir=DIR, or "
        "allow downloading with --config.data.download=True") from None
  labels = np.fromiter(
      (int(l) for l in tfds.as_numpy(ds.map(lambda e: e["label"]))), np.int64)
  class_names = builder.info.features["label"].names

  def make(indices: np.ndarray) -> tf.data.Dataset:
    keep = np.zeros(len(labels), bool)
    keep[indices] = True
    keep = tf.constant(keep)
    return ds.enumerate().filter(lambda i, e: keep[i]).map(
        lambda i, e: (e["image"], e["label"]))

  return Examples(labels, class_names, make, encoded=True)


DIGITS_TEST_FRACTION = 0.4
# L2TL's known answer: of each class's training digits, the first 40 (of a
# fixed permutation) are the target's pool ('train_target': 10 to train, 30
# to validate); the other ~68 ('train_source') only ever join a source dataset.
DIGITS_TARGET_PER_CLASS = 40
DIGITS_SPLITS = ("train", "test", "train_target", "train_source")


def _digits_arrays() -> tuple[np.ndarray, np.ndarray, list[str], dict]:
  """The 1,797 digits as uint8 0-255, their labels, names and fixed split masks."""
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  digits = datasets.load_digits()
  images = np.round(digits.images * (255 / 16)).astype(np.uint8)
  labels = digits.target.astype(np.int64)
  rng = np.random.default_rng(0)
  masks = {name: np.zeros(len(labels), bool) for name in DIGITS_SPLITS}
  for label in np.unique(labels):
    members = rng.permutation(np.flatnonzero(labels == label))
    cut = round(DIGITS_TEST_FRACTION * len(members))
    masks["test"][members[:cut]] = True
    masks["train"][members[cut:]] = True
    masks["train_target"][members[cut:cut + DIGITS_TARGET_PER_CLASS]] = True
    masks["train_source"][members[cut + DIGITS_TARGET_PER_CLASS:]] = True
  return images, labels, [str(n) for n in digits.target_names], masks


def _digits_split(split: str) -> Examples:
  """scikit-learn's bundled 8x8 digits (1,797 images), as uint8 0-255.

  They have no official split: a fixed permutation (seed 0) puts 40% of each
  class in 'test' and the rest in 'train', the same on every machine;
  'train' is 'train_target' + 'train_source' (see DIGITS_TARGET_PER_CLASS).
  """
  if split not in DIGITS_SPLITS:
    raise UserError(f"the digits dataset has no split '{split}'",
                    f"use one of {list(DIGITS_SPLITS)}")
  images, labels, names, masks = _digits_arrays()
  return _from_arrays(images[masks[split]], labels[masks[split]], names)


def _garments_and_digits(split: str, size: int = 28) -> Examples:
  """L2TL's known-answer source: related and unrelated classes in one dataset.

  Labels 0-9 are Fashion-MNIST's garments (the embedded subset's training
  images), 10-19 the digits of 'train_source', which a digits target
  (drawing on 'train_target' and 'test') never sees; class names are
  'garment:<name>' and 'digit:<d>'. Digits are resized from 8x8 to the
  garments' 28x28. It has a 'train' split only (L2TL never tests its source).
  """
  if split != "train":
    raise UserError(f"the garments_digits dataset has no split '{split}'",
                    "set its test_split to 'train' (L2TL never tests the source)")
  with np.load(EMBEDDED_PATH) as garments:
    images = [garments["train_images"][..., None]]
    labels = [garments["train_labels"].astype(np.int64)]
  digit_images, digit_labels, digit_names, masks = _digits_arrays()
  resized = tf.image.resize(digit_images[masks["train_source"]][..., None],
                            (size, size), antialias=True)
  images.append(np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8))
  labels.append(digit_labels[masks["train_source"]] + len(FASHION_MNIST_CLASSES))
  names = ([f"garment:{n}" for n in FASHION_MNIST_CLASSES]
           + [f"digit:{n}" for n in digit_names])
  return _from_arrays(np.concatenate(images), np.concatenate(labels), names)


# How many classes the scrambled half of 'digits_scrambled' has, and the seed
# of its labels (fixed: every run sees the same scrambled source).
SCRAMBLED_CLASSES = 10
SCRAMBLED_SEED = 1


def _digits_and_scrambled(split: str) -> Examples:
  """L2TL's known answer with classes that help and classes that hurt.

  Labels 0-9 ('digit:<d>') are the digits of 'train_source' under their own
  labels, which a digits target never sees; labels 10-19 ('scrambled:<k>')
  are the same images under labels drawn at random, once, with a fixed seed.
  Training the shared encoder on the first teaches digits; on the second it
  memorises noise about the very images the target must tell apart. A
  'train' split only, 8x8 like the target's digits.
  """
  if split != "train":
    raise UserError(f"the digits_scrambled dataset has no split '{split}'",
                    "set its test_split to 'train' (L2TL never tests the source)")
  images, labels, names, masks = _digits_arrays()
  images, labels = images[masks["train_source"]], labels[masks["train_source"]]
  scrambled = np.random.default_rng(SCRAMBLED_SEED).integers(
      0, SCRAMBLED_CLASSES, len(labels))
  return _from_arrays(np.concatenate([images, images]),
                      np.concatenate([labels, scrambled + len(names)]),
                      [f"digit:{n}" for n in names]
                      + [f"scrambled:{k}" for k in range(SCRAMBLED_CLASSES)])


LOADERS = ("tfds", "folder", "lists", "idx", "embedded", "digits", "garments_digits",
           "digits_scrambled")


def load_split(data_config, split: str) -> Examples:
  """Loads one split of the dataset described by `data_config` (its `loader`)."""
  source = data_config.loader
  if source == "embedded":
    return _embedded_split(split)
  if source == "digits":
    return _digits_split(split)
  if source == "garments_digits":
    return _garments_and_digits(split)
  if source == "digits_scrambled":
    return _digits_and_scrambled(split)
  if source == "idx":
    return _idx_split(data_config.path or DEBIAN_FASHION_MNIST, split)
  if source == "folder":
    if not data_config.path:
      raise UserError("data.loader='folder' needs data.path",
                      "pass --config.data.path=/path/to/root")
    return _folder_split(data_config.path, split)
  if source == "lists":
    return _list_split(data_config, split)
  if source == "tfds":
    return _tfds_split(data_config.name, split, data_config.data_dir or None,
                       data_config.download)
  raise UserError(f"unknown data.loader '{source}'",
                  f"use one of {list(LOADERS)}")
