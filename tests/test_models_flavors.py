"""Round trips for the XGBoost, LightGBM, PyTorch, ONNX and Python-function flavors:
each loads back to its native object and to the generic predict."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import heron
from heron.errors import InvalidArgument, PermissionDenied
from heron.models import read_manifest
from model_extras import require

RNG = np.random.default_rng(7)
FEATURES = RNG.random((60, 4)).astype("float32")
LABELS = (FEATURES[:, 0] + FEATURES[:, 1] > 1).astype(int)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[heron.Client]:
    with heron.Client(f"sqlite:///{tmp_path / 'heron.db'}") as opened:
        yield opened


def test_import_heron_imports_no_model_library() -> None:
    code = (
        "import sys, heron, heron.models, heron.sklearn, heron.pytorch\n"
        "heavy = {'sklearn', 'torch', 'xgboost', 'lightgbm', 'onnxruntime', 'skops'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_xgboost_booster_and_classifier(tmp_path: Path, client: heron.Client) -> None:
    xgb = require("xgboost", "xgboost")
    classifier = xgb.XGBClassifier(n_estimators=5, max_depth=2).fit(FEATURES, LABELS)
    booster = classifier.get_booster()

    heron.xgboost.save_model(classifier, tmp_path / "clf", input_example=FEATURES[:3])
    run = client.create_run()
    info = heron.xgboost.log_model(booster, "booster", run_id=run.id, client=client,
                                   input_example=FEATURES[:3])  # fmt: skip

    clf_model = heron.models.load(tmp_path / "clf")
    np.testing.assert_array_equal(clf_model.predict(FEATURES), classifier.predict(FEATURES))
    assert isinstance(heron.xgboost.load_model(tmp_path / "clf"), xgb.XGBClassifier)
    booster_model = heron.models.load(info.model_uri, client=client)
    assert isinstance(booster_model.native, xgb.Booster)
    np.testing.assert_allclose(
        booster_model.predict(FEATURES), classifier.predict_proba(FEATURES)[:, 1], rtol=1e-6
    )
    with pytest.raises(InvalidArgument, match="expects float32, got float64"):
        clf_model.predict(FEATURES.astype("float64"))
    with pytest.raises(InvalidArgument, match="this is a xgboost model, not sklearn"):
        heron.sklearn.load_model(tmp_path / "clf")
    with pytest.raises(InvalidArgument, match=r"heron.xgboost saves"):
        heron.xgboost.save_model(object(), tmp_path / "x")


def test_lightgbm_booster_and_classifier(tmp_path: Path, client: heron.Client) -> None:
    lgb = require("lightgbm", "lightgbm")
    frame = pd.DataFrame(FEATURES, columns=["a", "b", "c", "d"])
    classifier = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(frame, LABELS)

    heron.lightgbm.save_model(classifier, tmp_path / "clf", input_example=frame[:3])
    heron.lightgbm.save_model(
        classifier, tmp_path / "proba", predict_method="predict_proba", input_example=frame[:3]
    )
    run = client.create_run()
    info = heron.lightgbm.log_model(classifier.booster_, run_id=run.id, client=client)

    model = heron.models.load(tmp_path / "clf")
    np.testing.assert_array_equal(model.predict(frame), classifier.predict(frame))
    np.testing.assert_allclose(
        heron.models.load(tmp_path / "proba").predict(frame), classifier.predict_proba(frame)
    )
    booster = heron.lightgbm.load_model(info.model_uri, client=client)
    assert isinstance(booster, lgb.Booster)
    np.testing.assert_allclose(booster.predict(frame), classifier.predict_proba(frame)[:, 1])


def test_pytorch_exported_program(tmp_path: Path, client: heron.Client) -> None:
    torch = require("torch", "pytorch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))

    run = client.create_run()
    info = heron.pytorch.log_model(net, "net", run_id=run.id, client=client,
                                   input_example=FEATURES[:2])  # fmt: skip
    model = heron.models.load(info.model_uri, client=client)

    expected = net(torch.from_numpy(FEATURES)).detach().numpy()
    np.testing.assert_allclose(model.predict(FEATURES), expected, rtol=1e-5)
    assert model.predict(FEATURES[:1]).shape == (1, 1)  # a batch size it was not traced with
    assert model.signature.inputs.tensors[0].describe() == "float32[-1, 4]"  # type: ignore[union-attr]
    assert isinstance(heron.pytorch.load_model(info.model_uri, client=client), torch.nn.Module)
    with pytest.raises(InvalidArgument, match="traces the model on input_example"):
        heron.pytorch.save_model(net, tmp_path / "no-example")


def _write_module(folder: Path, name: str, source: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


def test_pytorch_state_dict_with_code_in_a_fresh_process(tmp_path: Path) -> None:
    require("torch", "pytorch")
    module = _write_module(
        tmp_path / "src",
        "heron_test_nets",
        """
        import torch

        class TinyNet(torch.nn.Module):
            def __init__(self, width: int = 2):
                super().__init__()
                self.linear = torch.nn.Linear(4, width)

            def forward(self, x):
                return self.linear(x)
        """,
    )
    script = f"""
        import sys, numpy as np, torch, heron
        sys.path.insert(0, {str(module.parent)!r})
        from heron_test_nets import TinyNet
        torch.manual_seed(0)
        net = TinyNet(width=3)
        x = np.ones((2, 4), dtype="float32")
        heron.pytorch.save_model(net, {str(tmp_path / "m")!r}, serialization="state_dict",
                                 init_kwargs={{"width": 3}}, input_example=x)
        np.save({str(tmp_path / "expected.npy")!r}, net(torch.from_numpy(x)).detach().numpy())
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True)

    # This process never imported heron_test_nets: it comes from the model's code/.
    model = heron.models.load(tmp_path / "m")
    prediction = model.predict(np.ones((2, 4), dtype="float32"))

    np.testing.assert_allclose(prediction, np.load(tmp_path / "expected.npy"), rtol=1e-6)
    assert read_manifest(tmp_path / "m").flavors["pytorch"]["module_class"] == (
        "heron_test_nets:TinyNet"
    )
    assert "code/heron_test_nets.py" in read_manifest(tmp_path / "m").files


def test_onnx_from_scikit_learn(tmp_path: Path, client: heron.Client) -> None:
    require("onnxruntime", "onnx")
    skl2onnx = require("skl2onnx", "onnx")
    from sklearn.linear_model import LogisticRegression

    classifier = LogisticRegression().fit(FEATURES, LABELS)
    onnx_model = skl2onnx.to_onnx(classifier, FEATURES[:1], options={"zipmap": False})

    run = client.create_run()
    info = heron.onnx.log_model(onnx_model.SerializeToString(), run_id=run.id, client=client)
    model = heron.models.load(info.model_uri, client=client)
    outputs = model.predict(FEATURES)

    assert model.signature.inputs.tensors[0].describe() == "float32[-1, 4]"  # type: ignore[union-attr]
    np.testing.assert_array_equal(outputs["label"], classifier.predict(FEATURES))
    np.testing.assert_allclose(
        outputs["probabilities"], classifier.predict_proba(FEATURES), rtol=1e-4
    )
    assert heron.onnx.load_model(info.model_uri, client=client).get_inputs()[0].name == "X"
    with pytest.raises(InvalidArgument, match="expects shape"):
        model.predict(np.zeros((1, 3), dtype="float32"))


PYFUNC_SOURCE = """
    from pathlib import Path

    import heron
    from heron_test_features import scale


    class KeywordModel(heron.pyfunc.PythonModel):
        def load_context(self, context):
            self.words = Path(context.artifacts["vocab"]).read_text().split()
            self.factor = context.model_config["factor"]

        def predict(self, model_input, params=None):
            boost = (params or {}).get("boost", 0.0)
            hits = [sum(w in text for w in self.words) for text in model_input["text"]]
            return [scale(h, self.factor) + boost for h in hits]
"""


def test_pyfunc_with_artifacts_code_paths_and_params(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "src"
    features = _write_module(source, "heron_test_features", "def scale(x, f):\n    return x * f\n")
    _write_module(source, "heron_test_keywords", PYFUNC_SOURCE)
    (tmp_path / "vocab.txt").write_text("fraud scam")
    monkeypatch.syspath_prepend(str(source))
    from heron_test_keywords import KeywordModel  # type: ignore[import-not-found]

    from heron.models.signature import ParamSpec, Signature, columns

    signature = Signature(columns(text="string"), params=(ParamSpec("boost", "double", 0.0),))
    heron.pyfunc.save_model(
        KeywordModel(),
        tmp_path / "m",
        artifacts={"vocab": tmp_path / "vocab.txt"},
        code_paths=[features],
        model_config={"factor": 10},
        signature=signature,
    )
    (tmp_path / "vocab.txt").write_text("changed after saving")

    model = heron.models.load(tmp_path / "m")

    assert model.predict({"text": ["a scam", "fraud scam", "hello"]}) == [10, 20, 0]
    assert model.predict([{"text": "scam"}], params={"boost": 1}) == [11.0]
    assert set(read_manifest(tmp_path / "m").files) >= {
        "artifacts/vocab/vocab.txt",
        "code/heron_test_features.py",
        "code/heron_test_keywords.py",
    }
    assert isinstance(heron.pyfunc.load_model(tmp_path / "m"), KeywordModel)
    with pytest.raises(InvalidArgument, match="param 'boost' expects double, got str"):
        model.predict({"text": ["x"]}, params={"boost": "high"})


def test_pyfunc_loads_in_a_fresh_process_from_its_own_code(tmp_path: Path) -> None:
    source = tmp_path / "src"
    _write_module(source, "heron_test_features", "def scale(x, f):\n    return x * f\n")
    _write_module(source, "heron_test_keywords", PYFUNC_SOURCE)
    (tmp_path / "vocab.txt").write_text("fraud")
    save = f"""
        import sys, heron
        sys.path.insert(0, {str(source)!r})
        from heron_test_keywords import KeywordModel
        heron.pyfunc.save_model(KeywordModel(), {str(tmp_path / "m")!r},
                                artifacts={{"vocab": {str(tmp_path / "vocab.txt")!r}}},
                                code_paths=[{str(source / "heron_test_features.py")!r}],
                                model_config={{"factor": 2}})
    """
    load = f"""
        import heron
        print(heron.models.load({str(tmp_path / "m")!r}).predict({{"text": ["fraud!"]}}))
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(save)], check=True)
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(load)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[2.0]"


class _NotAModel:
    pass


def test_pyfunc_refuses_what_it_cannot_reload(tmp_path: Path) -> None:
    class Local(heron.pyfunc.PythonModel):
        def predict(self, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input

    with pytest.raises(InvalidArgument, match="PythonModel subclasses"):
        heron.pyfunc.save_model(_NotAModel(), tmp_path / "a")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="defined in a script or function"):
        heron.pyfunc.save_model(Local(), tmp_path / "b")
    with pytest.raises(InvalidArgument, match=r"code path 'nope.py' does not exist"):
        heron.pyfunc.save_model(Local(), tmp_path / "c", code_paths=["nope.py"])


def test_pyfunc_class_must_come_from_the_models_code(tmp_path: Path) -> None:
    source = tmp_path / "src"
    _write_module(source, "heron_test_features", "def scale(x, f):\n    return x * f\n")
    _write_module(source, "heron_test_keywords", PYFUNC_SOURCE)
    (tmp_path / "vocab.txt").write_text("fraud")
    script = f"""
        import sys, heron
        sys.path.insert(0, {str(source)!r})
        from heron_test_keywords import KeywordModel
        heron.pyfunc.save_model(KeywordModel(), {str(tmp_path / "m")!r},
                                artifacts={{"vocab": {str(tmp_path / "vocab.txt")!r}}},
                                model_config={{"factor": 2}})
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True)
    manifest = (tmp_path / "m" / "heron-model.yaml").read_text()
    (tmp_path / "m" / "heron-model.yaml").write_text(
        manifest.replace("heron_test_keywords:KeywordModel", "subprocess:Popen")
    )

    with pytest.raises(PermissionDenied, match="'subprocess:Popen', which is not in the model's"):
        heron.models.load(tmp_path / "m")
