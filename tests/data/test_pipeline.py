import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import tiny
from configs import common
from l2t_tf.data import pipeline, preprocess, sources, subsets
from l2t_tf.errors import UserError


@pytest.fixture
def idx_dir(tmp_path):
  return tiny.idx_dataset(tmp_path)


def _config(**data):
  config = common.get_base_config().data
  config.update(data)
  return config


def _labels_and_count(dataset):
  labels = np.concatenate([y.numpy() for _, y in dataset])
  return labels, len(labels)


def test_idx_roundtrip(idx_dir):
  images = sources.read_idx(os.path.join(idx_dir, "train-images-idx3-ubyte.gz"))
  assert images.shape == (120, 28, 28) and images.dtype == np.uint8


def test_idx_pipeline_class_subset_and_counts(idx_dir):
  config = _config(loader="idx", path=idx_dir, classes=(7, 3), val_per_class=2,
                   images_per_class=5)
  data = pipeline.build_datasets(config, batch_size=4, seed=0)
  assert data.class_names == ["Sneaker", "Dress"]
  assert data.sizes == {"train": 10, "val": 4, "test": 8}
  train_labels, _ = _labels_and_count(data.train)
  assert np.bincount(train_labels).tolist() == [5, 5]   # remapped 7->0, 3->1
  images, _ = next(iter(data.train))
  assert images.shape == (4, 32, 32, 3) and images.dtype == tf.float32


def test_scrambled_training_labels_permute_the_true_ones_of_the_same_images(idx_dir):
  """A harmful known answer's source trains on its images under labels
  permuted at random: same images and class counts, most labels changed,
  validation untouched."""
  fields = dict(loader="idx", path=idx_dir, classes=(7, 3), val_per_class=2,
                images_per_class=10)
  true = pipeline.build_datasets(_config(**fields), batch_size=4, seed=0)
  scrambled = pipeline.build_datasets(
      _config(**fields, scramble_train_labels=True), batch_size=4, seed=0)
  def pairs(data):  # image bytes -> label, over one epoch (same order: same seed)
    return [(x.numpy().tobytes(), int(y)) for xb, yb in data.train_from(0, 0, 1)
            for x, y in zip(xb, yb)]
  plain, mixed = pairs(true), pairs(scrambled)
  assert [x for x, _ in plain] == [x for x, _ in mixed]
  labels_true, labels_mixed = [y for _, y in plain], [y for _, y in mixed]
  assert sorted(labels_true) == sorted(labels_mixed)
  assert sum(a != b for a, b in zip(labels_true, labels_mixed)) >= 5
  assert _labels_and_count(true.val)[0].tolist() == \
      _labels_and_count(scrambled.val)[0].tolist()


def test_splits_disjoint_exact_and_deterministic():
  labels = np.repeat(np.arange(4), 30)
  candidates = subsets.class_subset(labels, (1, 2, 3))
  a = subsets.split_train_val(labels, candidates, 5, 10, seed=3)
  b = subsets.split_train_val(labels, candidates, 5, 10, seed=3)
  c = subsets.split_train_val(labels, candidates, 5, 10, seed=4)
  assert not set(a.train) & set(a.val)
  assert np.bincount(labels[a.train]).tolist() == [0, 10, 10, 10]
  assert np.bincount(labels[a.val]).tolist() == [0, 5, 5, 5]
  np.testing.assert_array_equal(a.train, b.train)
  assert set(a.train) != set(c.train)
  # Smaller subsets are nested in larger ones; validation does not move.
  big = subsets.split_train_val(labels, candidates, 5, 20, seed=3)
  assert set(a.train) <= set(big.train)
  np.testing.assert_array_equal(a.val, big.val)


def test_the_meta_set_comes_from_held_out_images_and_leaves_training_alone():
  labels = np.repeat(np.arange(3), 30)
  candidates = np.arange(90)
  plain = subsets.split_train_val(labels, candidates, 10, 8, seed=1)
  meta = subsets.split_train_val(labels, candidates, 10, 8, seed=1, meta_per_class=4)
  np.testing.assert_array_equal(plain.train, meta.train)
  assert np.bincount(labels[meta.meta]).tolist() == [4, 4, 4]
  assert np.bincount(labels[meta.val]).tolist() == [6, 6, 6]
  assert set(meta.val) | set(meta.meta) == set(plain.val)
  assert not set(meta.val) & set(meta.meta)
  # The control trains on the meta set's images instead.
  into = subsets.split_train_val(labels, candidates, 10, 8, seed=1,
                                 meta_per_class=4, meta_into_train=True)
  assert set(into.train) == set(plain.train) | set(meta.meta)
  assert len(into.meta) == 0
  np.testing.assert_array_equal(into.val, meta.val)
  with pytest.raises(UserError, match="meta_per_class"):
    subsets.split_train_val(labels, candidates, 10, 8, seed=1, meta_per_class=10)


def test_dropping_each_class_s_first_images_in_file_order():
  labels = np.array([0, 1, 0, 1, 0, 1, 0, 2])
  kept = subsets.drop_first_per_class(labels, np.arange(7), 2)
  np.testing.assert_array_equal(kept, [4, 5, 6])
  np.testing.assert_array_equal(subsets.drop_first_per_class(labels, np.arange(8), 0),
                                np.arange(8))
  with pytest.raises(UserError, match="skip_first_per_class"):
    subsets.drop_first_per_class(labels, np.arange(8), -1)


def test_too_few_images_per_class():
  labels = np.repeat(np.arange(2), 5)
  with pytest.raises(UserError, match="fewer than"):
    subsets.split_train_val(labels, np.arange(10), 3, 5, seed=0)


def test_unknown_class():
  with pytest.raises(UserError, match="do not occur"):
    subsets.class_subset(np.arange(3), (7,))


def test_image_folder(tmp_path):
  rng = np.random.RandomState(0)
  for split, n in (("train", 6), ("test", 2)):
    for name in ("cat", "dog"):
      folder = tmp_path / split / name
      folder.mkdir(parents=True)
      for i in range(n):
        size = (20 + i, 30, 3)  # varying sizes, as real folders have
        png = tf.io.encode_png(rng.randint(0, 256, size).astype(np.uint8))
        (folder / f"{i}.png").write_bytes(png.numpy())
  config = _config(loader="folder", path=str(tmp_path), val_per_class=1,
                   image_size=16)
  data = pipeline.build_datasets(config, batch_size=3, seed=0)
  assert data.class_names == ["cat", "dog"]
  assert data.sizes == {"train": 10, "val": 2, "test": 4}
  images, _ = next(iter(data.test))
  assert images.shape == (3, 16, 16, 3)


def _image_folder(root: str, test_classes=("cat", "dog")) -> None:
  """root/<split>/<class>/<i>.png through tf.io.gfile (any filesystem)."""
  png = tf.io.encode_png(np.zeros((8, 8, 3), np.uint8))
  for split, classes in (("train", ("cat", "dog")), ("test", test_classes)):
    for name in classes:
      for i in range(3):
        tf.io.write_file(f"{root}/{split}/{name}/{i}.png", png)


def test_an_image_folder_on_a_filesystem_without_rename(ram):
  _image_folder(ram)
  data = pipeline.build_datasets(_config(loader="folder", path=ram,
                                         val_per_class=1, image_size=16), 3, 0)
  assert data.class_names == ["cat", "dog"]
  assert data.sizes == {"train": 4, "val": 2, "test": 6}


def test_a_class_only_in_the_test_split_is_refused(tmp_path):
  """Its images would silently leave the test set (and its accuracy)."""
  _image_folder(str(tmp_path), test_classes=("bird", "cat", "dog"))
  with pytest.raises(UserError, match="test has class folder.*bird.*train lacks"):
    pipeline.build_datasets(_config(loader="folder", path=str(tmp_path),
                                    val_per_class=1, image_size=16), 3, 0)


def test_a_corrupt_image_in_a_folder_is_named(tmp_path):
  _image_folder(str(tmp_path))
  (tmp_path / "train" / "dog" / "1.png").write_bytes(b"<html>not found</html>")
  with pytest.raises(UserError, match="1 file.*cannot be read as JPEG.*dog/1.png"):
    pipeline.build_datasets(_config(loader="folder", path=str(tmp_path),
                                    val_per_class=1, image_size=16), 3, 0)
  # A download cut short: the right first bytes, no end.
  (tmp_path / "train" / "dog" / "1.png").write_bytes(
      tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)).numpy())
  jpeg = tf.io.encode_jpeg(np.full((64, 64, 3), 90, np.uint8)).numpy()
  (tmp_path / "train" / "cat" / "2.png").write_bytes(jpeg[:len(jpeg) // 2])
  with pytest.raises(UserError, match="1 file.*truncated.*cat/2.png"):
    pipeline.build_datasets(_config(loader="folder", path=str(tmp_path),
                                    val_per_class=1, image_size=16), 3, 0)
  (tmp_path / "train" / "cat" / "2.png").write_bytes(jpeg)  # whole: accepted
  pipeline.build_datasets(_config(loader="folder", path=str(tmp_path),
                                  val_per_class=1, image_size=16), 3, 0)


def _folder_config(root):
  return _config(loader="folder", path=str(root), val_per_class=1, image_size=16)


def test_a_png_corrupt_after_an_intact_header_is_named_before_training(tmp_path):
  _image_folder(str(tmp_path))
  png = bytearray(tf.io.encode_png(np.arange(192, dtype=np.uint8).reshape(
      8, 8, 3)).numpy())
  png[40:60] = b"\0" * 20  # the pixel data; the signature and IEND stay
  (tmp_path / "test" / "cat" / "0.png").write_bytes(bytes(png))
  with pytest.raises(UserError, match="1 file.*corrupt.*cat/0.png"):
    pipeline.build_datasets(_folder_config(tmp_path), 3, 0)


@pytest.mark.parametrize("odd", ["dangling link", "folder named like an image",
                                 "images one level down"])
def test_odd_entries_of_a_class_folder_are_named(tmp_path, odd):
  _image_folder(str(tmp_path))
  dog = tmp_path / "train" / "dog"
  if odd == "dangling link":
    os.symlink(tmp_path / "gone.png", dog / "3.png")
    match = "cannot be read.*broken link.*dog/3.png"
  else:
    sub = dog / ("photos.jpg" if odd == "folder named like an image" else "more")
    _png(sub / "a.png")
    match = f"{dog} holds images in its sub-folder {sub.name}"
  with pytest.raises(UserError, match=match):
    pipeline.build_datasets(_folder_config(tmp_path), 3, 0)
  if odd != "dangling link":  # a sub-folder without images is left alone
    (sub / "a.png").unlink()
    pipeline.build_datasets(_folder_config(tmp_path), 3, 0)


def _png(path):
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_bytes(tf.io.encode_png(np.zeros((12, 10, 3), np.uint8)).numpy())


def test_mit67_style_split_lists(tmp_path):
  """TrainImages.txt / TestImages.txt, each line class/file under Images/."""
  lists = {"train": [], "test": []}
  for name in ("kitchen", "bar"):
    for i in range(5):
      split = "test" if i >= 3 else "train"
      _png(tmp_path / "Images" / name / f"{i}.jpg")
      lists[split].append(f"{name}/{i}.jpg")
  (tmp_path / "TrainImages.txt").write_text("\n".join(lists["train"]) + "\n")
  (tmp_path / "TestImages.txt").write_text("\n".join(lists["test"]))
  config = _config(loader="lists", path=str(tmp_path), image_dir="Images",
                   val_per_class=1, image_size=16, preprocessing="imagenet",
                   split_lists={"train": "TrainImages.txt", "test": "TestImages.txt"})
  data = pipeline.build_datasets(config, batch_size=2, seed=0)
  assert data.class_names == ["bar", "kitchen"]
  assert data.sizes == {"train": 4, "val": 2, "test": 4}


def test_stanford40_style_split_lists(tmp_path):
  """ImageSplits/<class>_train.txt naming files under JPEGImages/."""
  for name in ("applauding", "riding_a_bike"):
    for split, ids in (("train", range(3)), ("test", range(3, 5))):
      lines = [f"{name}_{i:03d}.jpg" for i in ids]
      for line in lines:
        _png(tmp_path / "JPEGImages" / line)
      (tmp_path / "ImageSplits").mkdir(exist_ok=True)
      (tmp_path / "ImageSplits" / f"{name}_{split}.txt").write_text("\n".join(lines))
  (tmp_path / "ImageSplits" / "actions.txt").write_text("not a split list")
  config = _config(loader="lists", path=str(tmp_path), image_dir="JPEGImages",
                   val_per_class=1, image_size=16,
                   split_lists={"train": "ImageSplits/*_train.txt",
                                "test": "ImageSplits/*_test.txt"})
  data = pipeline.build_datasets(config, batch_size=2, seed=0)
  assert data.class_names == ["applauding", "riding_a_bike"]
  assert data.sizes == {"train": 4, "val": 2, "test": 4}
  (tmp_path / "JPEGImages" / "applauding_004.jpg").unlink()
  with pytest.raises(UserError, match="1 listed image.*missing.*applauding_004"):
    pipeline.build_datasets(config, 2, 0)
  config.split_lists.test = "Splits/*_test.txt"
  with pytest.raises(UserError, match="no split list"):
    pipeline.build_datasets(config, 2, 0)


def test_missing_folder(tmp_path):
  with pytest.raises(UserError, match="does not exist"):
    pipeline.build_datasets(_config(loader="folder", path=str(tmp_path / "x")),
                            4, 0)


def test_missing_idx_dir(tmp_path):
  with pytest.raises(UserError, match="dataset-fashion-mnist"):
    pipeline.build_datasets(_config(loader="idx", path=str(tmp_path)), 4, 0)


@pytest.mark.parametrize("name", ["cifar10", "stl10"])
def test_tfds_with_mock_data(name):
  config = _config(loader="tfds", name=name, classes=(0, 1), val_per_class=2,
                   images_per_class=3)
  with tfds.testing.mock_data(num_examples=300):
    data = pipeline.build_datasets(config, batch_size=4, seed=0)
    assert data.sizes["train"] == 6 and data.sizes["val"] == 4
    labels, count = _labels_and_count(data.train)
    assert count == 6 and set(labels) == {0, 1}
    images, _ = next(iter(data.val))
    assert images.shape[1:] == (32, 32, 3)


def test_tfds_offline_missing_dataset_is_one_line(tmp_path):
  config = _config(loader="tfds", name="cifar100", data_dir=str(tmp_path))
  with pytest.raises(UserError) as error:
    pipeline.build_datasets(config, 4, 0)
  assert "download" in str(error.value) and "\n" not in str(error.value)


def test_tfds_unknown_name():
  with pytest.raises(UserError, match="no dataset"):
    pipeline.build_datasets(_config(loader="tfds", name="no_such_set"), 4, 0)


def test_bad_batch_size():
  with pytest.raises(UserError, match="batch_size"):
    pipeline.build_datasets(_config(loader="embedded"), 0, 0)


def test_embedded_subset_is_balanced():
  examples = sources.load_split(_config(loader="embedded"), "train")
  assert np.bincount(examples.labels).tolist() == [300] * 10


def test_eval_preprocessing_same_eagerly_and_in_tf_data():
  image = np.random.RandomState(0).randint(0, 256, (28, 28, 1)).astype(np.uint8)
  eager = preprocess.eval_image(tf.constant(image), "cifar", 32, 3)
  graph = next(iter(tf.data.Dataset.from_tensors(image).map(
      lambda x: preprocess.eval_image(x, "cifar", 32, 3))))
  np.testing.assert_allclose(eager, graph, atol=1e-6)
  assert eager.shape == (32, 32, 3)
  # Grayscale was repeated into three identical channels before normalising.
  unnormalised = eager * preprocess.STD + preprocess.MEAN
  np.testing.assert_allclose(unnormalised[..., 0], unnormalised[..., 2], atol=1e-5)


def test_imagenet_preprocessing_shapes():
  image = tf.constant(np.random.RandomState(0).randint(0, 256, (300, 400, 3)),
                      tf.uint8)
  assert preprocess.eval_image(image, "imagenet", 224, 3).shape == (224, 224, 3)
  train = preprocess.train_image(image, tf.constant([1, 2], tf.int64),
                                 "imagenet", 224, 3)
  assert train.shape == (224, 224, 3)


def test_training_augmentation_is_seeded():
  image = tf.constant(np.random.RandomState(0).randint(0, 256, (32, 32, 3)),
                      tf.uint8)
  seed = tf.constant([3, 4], tf.int64)
  a = preprocess.train_image(image, seed, "cifar", 32, 3)
  b = preprocess.train_image(image, seed, "cifar", 32, 3)
  c = preprocess.train_image(image, seed + 1, "cifar", 32, 3)
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)


def test_digits_split_is_fixed_disjoint_and_stratified():
  train = sources.load_split(_config(loader="digits"), "train")
  test = sources.load_split(_config(loader="digits"), "test")
  assert len(train.labels) + len(test.labels) == 1797  # scikit-learn's digits
  test_share = np.bincount(test.labels) / (np.bincount(test.labels)
                                           + np.bincount(train.labels))
  np.testing.assert_allclose(test_share, 0.4, atol=0.01)
  images = lambda examples: np.stack([x.numpy() for x, _ in examples.make(
      np.arange(len(examples.labels)))])
  train_images, test_images = images(train), images(test)
  assert train_images.shape[1:] == (8, 8, 1) and train_images.max() == 255
  # No image of the test split is a training image (compared as bytes).
  assert not ({x.tobytes() for x in train_images} & {x.tobytes() for x in test_images}
              ) - {np.zeros((8, 8, 1), np.uint8).tobytes()}
  again = sources.load_split(_config(loader="digits"), "test")
  np.testing.assert_array_equal(again.labels, test.labels)


def test_digits_target_and_source_pools_are_disjoint_and_make_up_train():
  """L2TL's known answer: the source's digits never meet the target's."""
  images, labels, _, masks = sources._digits_arrays()
  assert not np.any(masks["train_target"] & masks["train_source"])
  assert not np.any((masks["train_target"] | masks["train_source"]) & masks["test"])
  np.testing.assert_array_equal(masks["train_target"] | masks["train_source"],
                                masks["train"])
  assert np.all(np.bincount(labels[masks["train_target"]]) == 40)
  mixed = sources.load_split(_config(loader="garments_digits"), "train")
  assert mixed.class_names[0] == "garment:T-shirt/top"
  assert mixed.class_names[10:] == [f"digit:{d}" for d in range(10)]
  counts = np.bincount(mixed.labels)
  assert list(counts[:10]) == [300] * 10
  np.testing.assert_array_equal(counts[10:], np.bincount(labels[masks["train_source"]]))
  with pytest.raises(UserError, match="no split 'test'"):
    sources.load_split(_config(loader="garments_digits"), "test")


def test_inception_preprocessing_scales_to_minus_one_one():
  """Inception-V3's ImageNet weights expect [-1, 1], with imagenet's crops."""
  halves = np.zeros((300, 300, 3), np.uint8)
  halves[:, 150:] = 255
  image = tf.constant(halves)
  ours = preprocess.eval_image(image, "inception", 299, 3).numpy()
  assert ours.min() == -1.0 and ours.max() == 1.0 and ours.shape == (299, 299, 3)
  standardised = preprocess.eval_image(image, "imagenet", 299, 3).numpy()
  np.testing.assert_allclose((ours + 1) / 2 * 255,
                             standardised * np.array(preprocess.STD) * 255
                             + np.array(preprocess.MEAN) * 255, atol=1e-3)


def test_a_class_missing_from_the_test_split_is_named(tmp_path):
  """Issue #25: it said 'data.classes [2] do not occur' to a user who set none."""
  _image_folder(str(tmp_path))
  for i in range(3):
    tf.io.write_file(f"{tmp_path}/train/emu/{i}.png",
                     tf.io.encode_png(np.zeros((8, 8, 3), np.uint8)))
  with pytest.raises(UserError, match=r"\['emu'\] of the train split have no image "
                     "in the test split"):
    pipeline.build_datasets(_folder_config(tmp_path), 3, 0)


def test_the_lists_loader_without_split_lists_says_so(tmp_path):
  """Issue #25: the default (empty) split_lists read as 'no split list DIR/.'."""
  config = _config(loader="lists", path=str(tmp_path), val_per_class=1)
  with pytest.raises(UserError, match="data.split_lists has no 'train' list file "
                     "pattern"):
    pipeline.build_datasets(config, 3, 0)
