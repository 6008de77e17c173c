"""Exact, low-overhead inference for a few scikit-learn estimators on the scoring path.

scikit-learn's per-call cost dominates small requests: for one row, a LogisticRegression
spends ~100 us validating its input (``check_array``, feature names, array-API
namespace lookups) around a 20-feature dot product, and a 100-tree RandomForest spends
5.6 ms, mostly walking its trees one Python call at a time through joblib. Here those
models are compiled, once at load, into plain numpy: the linear models' dot product and
link, and every tree of a forest packed into one node table and traversed for all trees
at once.

The outputs are scikit-learn's, to the bit: the same operations on the same dtypes in
the same order (the input converted to float32 for trees as scikit-learn does, the
forest's per-tree values added tree by tree before the one division). The property
tests in ``tests/test_serving_fast_sklearn.py`` hold that against scikit-learn on random
inputs. Anything outside what is compiled here (another estimator, a subclass, sparse or
non-float input, NaN or infinity, several outputs, a DataFrame whose columns are not the
fitted ones) returns ``None`` and the caller uses scikit-learn itself, errors included.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# What a compiled predictor returns when it cannot answer: the caller asks scikit-learn.
FastPredict = Callable[[Any], Any | None]

_LINEAR_CLASSIFIERS = {"sklearn.linear_model._logistic.LogisticRegression"}
_LINEAR_REGRESSORS = {
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.linear_model._ridge.Ridge",
}
_TREE_CLASSIFIERS = {"sklearn.tree._classes.DecisionTreeClassifier"}
_TREE_REGRESSORS = {"sklearn.tree._classes.DecisionTreeRegressor"}
_FOREST_CLASSIFIERS = {
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
}
_FOREST_REGRESSORS = {
    "sklearn.ensemble._forest.RandomForestRegressor",
    "sklearn.ensemble._forest.ExtraTreesRegressor",
}


def compile_predictor(estimator: Any, method: str) -> FastPredict | None:
    """A fast ``estimator.<method>`` for the estimators listed above, else None.

    Only the exact classes are compiled: a subclass may override how it predicts.
    """
    name = f"{type(estimator).__module__}.{type(estimator).__qualname__}"
    try:
        if name in _LINEAR_CLASSIFIERS:
            return _linear_classifier(estimator, method)
        if name in _LINEAR_REGRESSORS and method == "predict":
            return _linear_regressor(estimator)
        if name in _TREE_CLASSIFIERS | _FOREST_CLASSIFIERS:
            trees = [estimator] if name in _TREE_CLASSIFIERS else list(estimator.estimators_)
            return _forest_classifier(estimator, trees, method, average=name in _FOREST_CLASSIFIERS)
        if name in _TREE_REGRESSORS | _FOREST_REGRESSORS and method == "predict":
            trees = [estimator] if name in _TREE_REGRESSORS else list(estimator.estimators_)
            return _forest_regressor(estimator, trees, average=name in _FOREST_REGRESSORS)
    except AttributeError:  # not fitted, or fitted by a scikit-learn with other attributes
        return None
    return None


# -- input ---------------------------------------------------------------------------


def _input_reader(estimator: Any) -> Callable[[Any], np.ndarray | None]:
    """The input as the 2-D float array scikit-learn would use, or None to fall back."""
    n_features = int(estimator.n_features_in_)
    names = getattr(estimator, "feature_names_in_", None)
    expected_columns = None if names is None else [str(n) for n in names]
    ndarray = np.ndarray

    def read(data: Any) -> np.ndarray | None:
        if type(data) is ndarray:
            # Fitted on a DataFrame, scikit-learn warns about an array without names; the
            # warning is its to give, so such calls go to it.
            if expected_columns is not None:
                return None
            array = data
        elif expected_columns is not None and _is_frame(data):
            if list(data.columns) != expected_columns:
                return None
            if not all(dtype.kind == "f" for dtype in data.dtypes):
                return None
            array = data.to_numpy()
        else:
            return None
        if array.ndim != 2 or array.shape[1] != n_features or array.dtype.kind != "f":
            return None
        if array.dtype.itemsize not in (4, 8):
            return None
        return array

    return read


def _is_frame(data: Any) -> bool:
    module = type(data).__module__
    return type(data).__name__ == "DataFrame" and (module + ".").startswith("pandas.")


def _finite(array: np.ndarray) -> bool:
    # scikit-learn raises on NaN and infinity (or routes NaN by learned rules): its error
    # message and its rules apply, so such input goes to it.
    return bool(np.isfinite(array).all())


# -- linear models ---------------------------------------------------------------------


def _linear_classifier(estimator: Any, method: str) -> FastPredict | None:
    from scipy import special  # type: ignore[import-untyped]
    from sklearn.utils.extmath import softmax

    coef = estimator.coef_
    if not isinstance(coef, np.ndarray) or coef.ndim != 2:
        return None  # sparsified coefficients: left to scikit-learn
    coef_t = coef.T
    intercept = estimator.intercept_
    classes = estimator.classes_
    binary = classes.size <= 2
    read = _input_reader(estimator)

    def decision(data: Any) -> np.ndarray | None:
        x = read(data)
        if x is None or not _finite(x):
            return None
        scores: np.ndarray = x @ coef_t + intercept
        if scores.ndim > 1 and scores.shape[1] == 1:
            return scores.reshape((-1,))
        return scores

    def predict(data: Any) -> Any:
        scores = decision(data)
        if scores is None:
            return None
        binary_scores = scores.ndim == 1
        indices = (scores > 0).astype(np.intp) if binary_scores else np.argmax(scores, axis=1)
        return classes.take(indices, axis=0)

    def predict_proba(data: Any) -> Any:
        scores = decision(data)
        if scores is None:
            return None
        if binary:
            # LogisticRegression._predict_proba_lr for two classes.
            prob = special.expit(scores, out=scores)
            if prob.ndim == 1:
                return np.stack([1 - prob, prob], axis=1)
            return None  # (one class column per class for two classes: not seen; defer)
        return softmax(scores, copy=False)

    if method == "predict":
        return predict
    if method == "predict_proba":
        return predict_proba
    if method == "decision_function":
        return decision
    return None


def _linear_regressor(estimator: Any) -> FastPredict | None:
    coef = estimator.coef_
    if not isinstance(coef, np.ndarray) or coef.ndim != 1:
        return None  # several targets: left to scikit-learn
    intercept = estimator.intercept_
    read = _input_reader(estimator)

    def predict(data: Any) -> Any:
        x = read(data)
        if x is None or not _finite(x):
            return None
        return x @ coef + intercept

    return predict


# -- trees and forests -----------------------------------------------------------------


class PackedTrees:
    """Every tree of an ensemble in one node table, walked for all trees at once.

    Leaves point to themselves, so every (row, tree) pair takes ``depth`` steps with no
    branch on whether it has arrived; the split test is scikit-learn's, a float32 input
    value against a float64 threshold, ``<=`` going left.
    """

    def __init__(self, trees: list[Any]) -> None:
        features: list[np.ndarray] = []
        thresholds: list[np.ndarray] = []
        children: list[np.ndarray] = []
        values: list[np.ndarray] = []
        roots: list[int] = []
        offset = 0
        depth = 0
        for tree in trees:
            structure = tree.tree_
            count = int(structure.node_count)
            left = structure.children_left.astype(np.intp)
            right = structure.children_right.astype(np.intp)
            own = np.arange(count, dtype=np.intp)
            leaf = left == -1
            pairs = np.empty((count, 2), dtype=np.intp)
            pairs[:, 0] = np.where(leaf, own, left) + offset
            pairs[:, 1] = np.where(leaf, own, right) + offset
            children.append(pairs.reshape(-1))
            features.append(np.where(leaf, 0, structure.feature).astype(np.intp))
            thresholds.append(structure.threshold.astype(np.float64))
            values.append(structure.value[:, 0, :])
            roots.append(offset)
            offset += count
            depth = max(depth, int(structure.max_depth))
        self.children = np.concatenate(children)
        self.feature = np.concatenate(features)
        self.threshold = np.concatenate(thresholds)
        self.value = np.concatenate(values)  # (nodes, classes or 1)
        self.roots = np.asarray(roots, dtype=np.intp)
        self.depth = depth
        self.count = len(trees)

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """Leaf node per (row, tree): shape (rows, trees). ``x`` is C-contiguous float32."""
        rows, width = x.shape
        flat = x.reshape(-1)
        base = (np.arange(rows, dtype=np.intp) * width)[:, np.newaxis]
        node = np.repeat(self.roots[np.newaxis, :], rows, axis=0)
        feature, threshold, children = self.feature, self.threshold, self.children
        for _ in range(self.depth):
            values = flat.take(base + feature.take(node))
            right = values > threshold.take(node)
            node = children.take(node * 2 + right)
        return node

    def summed(self, x: np.ndarray) -> np.ndarray:
        """Per row, the trees' leaf values added in tree order, as scikit-learn adds them
        (0 + tree 1 + tree 2 ...): a cumulative sum, which numpy computes in order."""
        per_tree = self.value.take(self.leaves(x), axis=0)  # (rows, trees, outputs)
        if self.count == 1:
            return per_tree[:, 0]
        total: np.ndarray = np.cumsum(per_tree, axis=1)[:, -1]
        return total


def _tree_input(estimator: Any) -> Callable[[Any], np.ndarray | None]:
    read = _input_reader(estimator)

    def tree_input(data: Any) -> np.ndarray | None:
        x = read(data)
        if x is None:
            return None
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        return x32 if _finite(x32) else None

    return tree_input


def _forest_classifier(
    estimator: Any, trees: list[Any], method: str, *, average: bool
) -> FastPredict | None:
    if int(estimator.n_outputs_) != 1 or method not in ("predict", "predict_proba"):
        return None
    packed = PackedTrees(trees)
    classes = estimator.classes_
    n_classes = int(estimator.n_classes_)
    read = _tree_input(estimator)

    def proba(data: Any) -> np.ndarray | None:
        x = read(data)
        if x is None:
            return None
        if not average:  # one tree: its leaf fractions as they are
            return packed.value.take(packed.leaves(x)[:, 0], axis=0)[:, :n_classes]
        total = packed.summed(x)
        total /= packed.count
        return total

    def predict(data: Any) -> Any:
        result = proba(data)
        if result is None:
            return None
        return classes.take(np.argmax(result, axis=1), axis=0)

    return predict if method == "predict" else proba


def _forest_regressor(estimator: Any, trees: list[Any], *, average: bool) -> FastPredict | None:
    if int(estimator.n_outputs_) != 1:
        return None
    packed = PackedTrees(trees)
    read = _tree_input(estimator)

    def predict(data: Any) -> Any:
        x = read(data)
        if x is None:
            return None
        if not average:
            return packed.value.take(packed.leaves(x)[:, 0], axis=0)[:, 0]
        total = packed.summed(x)[:, 0].copy()
        total /= packed.count
        return total

    return predict
