"""scikit-learn's bundled 8×8 digits, split into train / validation / test with a fixed seed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from l2l import ConfigError

N_CLASSES = 10
N_PIXELS = 64


@dataclass(frozen=True)
class Split:
    """Images (pixel intensities scaled to [0, 1]) and labels of one part of the data."""

    images: np.ndarray
    labels: np.ndarray

    def one_hot(self) -> np.ndarray:
        """One-hot labels, shape ``(n, 10)``."""
        return np.eye(N_CLASSES)[self.labels]


@lru_cache(maxsize=8)
def digits_splits(n_train: int, n_validation: int, n_test: int | None,
                  seed: int) -> dict[str, Split]:
    """Shuffle the 1797 digits with ``seed`` and cut them into consecutive parts;
    ``n_test=None`` puts all remaining images into the test set."""
    from sklearn.datasets import load_digits

    data = load_digits()
    total = len(data.target)
    n_test_ = total - n_train - n_validation if n_test is None else n_test
    if min(n_train, n_validation, n_test_) < 1 or n_train + n_validation + n_test_ > total:
        raise ConfigError(f"digits split: n_train={n_train}, n_validation={n_validation}, "
                          f"n_test={n_test} must be positive and sum to at most {total}")
    order = np.random.default_rng(seed).permutation(total)
    images = data.data[order] / 16.0
    labels = data.target[order].astype(np.int64)
    cuts = {"train": (0, n_train), "validation": (n_train, n_train + n_validation),
            "test": (n_train + n_validation, n_train + n_validation + n_test_)}
    return {k: Split(images[a:b], labels[a:b]) for k, (a, b) in cuts.items()}
