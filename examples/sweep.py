"""A small tracked training sweep: logistic regression on scikit-learn's breast-cancer data.

Run it with ``make demo`` (or ``python examples/sweep.py``), then look at the runs:
``heron runs list --experiment demo-sweep --order-by "metrics.auc DESC"``.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from rich.console import Console
from rich.progress import track
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import heron

EXPERIMENT = "demo-sweep"
MODEL = "demo-classifier"


def main() -> None:
    frame = load_breast_cancer(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["target"])
    x_train, y_train = train.drop(columns="target"), train["target"]
    x_test, y_test = test.drop(columns="target"), test["target"]

    heron.set_experiment(EXPERIMENT)
    grid = list(itertools.product([0.01, 0.1, 1.0, 10.0], [0.0, 1.0]))
    with heron.start_run(run_name="sweep") as parent:
        heron.log_input(train, context="training", name="breast-cancer")
        heron.log_input(test, context="test", name="breast-cancer")
        for c, l1_ratio in track(grid, description="training"):
            penalty = "l1" if l1_ratio else "l2"
            with heron.start_run(run_name=f"lr-{penalty}-C{c}", nested=True):
                heron.log_params({"C": c, "penalty": penalty, "solver": "saga"})
                heron.log_input(train, context="training", name="breast-cancer")
                model = make_pipeline(
                    StandardScaler(),
                    LogisticRegression(C=c, l1_ratio=l1_ratio, solver="saga", max_iter=5000),
                )
                # A learning curve: the test loss as the model sees more training rows.
                for step, fraction in enumerate((0.2, 0.4, 0.6, 0.8, 1.0)):
                    rows = int(len(x_train) * fraction)
                    model.fit(x_train[:rows], y_train[:rows])
                    proba = model.predict_proba(x_test)[:, 1]
                    heron.log_metric("test_loss", log_loss(y_test, proba), step=step)
                predicted = model.predict(x_test)
                heron.log_metrics(
                    {
                        "auc": roc_auc_score(y_test, proba),
                        "f1": f1_score(y_test, predicted),
                        "accuracy": accuracy_score(y_test, predicted),
                    }
                )
                heron.set_tag("model", "logistic-regression")
                heron.sklearn.log_model(model, name="model", input_example=x_train[:5])
                coefficients = model[-1].coef_[0]
                heron.log_dict(
                    dict(zip(x_train.columns, coefficients.round(4).tolist(), strict=True)),
                    "coefficients.json",
                )
        with tempfile.TemporaryDirectory() as folder:
            summary = Path(folder) / "grid.txt"
            summary.write_text("\n".join(f"C={c} l1_ratio={r}" for c, r in grid) + "\n")
            heron.log_artifact(summary)

    best = heron.search_runs(
        EXPERIMENT,
        filter=f"attributes.parent_run_id = '{parent.id}' AND metrics.auc > 0.9",
        order_by=["metrics.auc DESC", "metrics.f1 DESC"],
        max_results=3,
    )
    console = Console()
    console.print(f"[bold]{len(grid)} runs logged to experiment {EXPERIMENT!r}; the best:[/]")
    console.print(best[["run_name", "metrics.auc", "metrics.f1", "params.C", "params.penalty"]])
    promote(best["run_id"].iloc[0], x_test, console)


def promote(run_id: str, x_test: object, console: Console) -> None:
    """Register the best run's model and promote it to ``champion`` through the registry's
    governance: ``champion`` is protected, so it moves only when an approver accepts."""
    version = heron.register_model(f"runs:/{run_id}/model", MODEL, description="best of the sweep")
    admin = heron.Client(user="demo-admin")
    if "demo-admin" not in {r.value for r in admin.roles_of("demo-admin")}:
        admin.grant_role("demo-admin", "admin")  # the first admin appoints themselves
    admin.grant_role("demo-reviewer", "approver")
    admin.set_model_policy(MODEL, protected_aliases=["champion"])
    request = heron.request_transition(MODEL, version.version, "champion", comment="best AUC")
    heron.Client(user="demo-reviewer").approve(MODEL, request.id, comment="checked the sweep")
    champion = heron.models.load(f"models:/{MODEL}@champion")
    console.print(
        f"[bold]{MODEL} version {version.version} is champion[/]; its first predictions: "
        f"{champion.predict(x_test)[:5].tolist()}"
    )


if __name__ == "__main__":
    main()
