"""Installs l2t_tf: learned knowledge transfer between heterogeneous networks."""
import setuptools

setuptools.setup(
    name="l2t_tf",
    version="0.1.0",
    description="Learning What and Where to Transfer (L2T-ww) and baselines "
    "in TensorFlow/Keras.",
    # configs/ installs too, so `l2t-tf --config=quickstart` works without
    # a clone (its files import each other as `configs.*`).
    packages=setuptools.find_packages(include=["l2t_tf", "l2t_tf.*", "configs"]),
    package_data={"l2t_tf": ["assets/*"]},
    python_requires=">=3.11",
    entry_points={"console_scripts": [
        "l2t-tf=l2t_tf.main:run",
        "l2t-tf-convert=l2t_tf.entry_points:convert",
        "l2t-tf-bench=l2t_tf.entry_points:bench",
        "l2t-tf-serving-client=l2t_tf.entry_points:serving_client",
    ]},
    install_requires=[
        "tensorflow==2.21.*",
        "keras>=3.15,<4",
        "tensorflow-datasets>=4.9",
        # TF 2.21 no longer pulls TensorBoard in; Keras's callback needs it.
        "tensorboard>=2.21",
        "absl-py>=2.1",
        "ml-collections>=1.0",
        "matplotlib>=3.8",
        # scikit-learn's bundled digits: the offline L2TL target dataset.
        "scikit-learn>=1.3",
        "numpy",
    ],
    extras_require={
        # The TF Serving client (python -m l2t_tf.serving_client).
        "serving": ["tensorflow-serving-api==2.21.*"],
        # Reading PyTorch checkpoints (python -m l2t_tf.convert).
        "torch": ["torch>=2.1"],
        # 2.13.0 is the CPU build that CI's machines hold offline.
        "test": ["pytest>=8", "pytest-xdist>=3", "tensorflow-serving-api==2.21.*",
                 "torch==2.13.0"],
    },
)
