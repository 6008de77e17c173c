"""Search: the filter language compiled to SQL, ordering and keyset paging, on both backends."""

from __future__ import annotations

import math
import random

import pytest

from heron.entities import Dataset, Metric, Param, RunInput, RunTag
from heron.errors import InvalidArgument, SearchSyntaxError
from heron.services import TrackingService
from heron.store import ViewType


@pytest.fixture
def seeded(service: TrackingService) -> tuple[TrackingService, str, dict[str, str]]:
    """Five runs with a spread of params, metrics, tags and a dataset."""
    experiment = service.create_experiment("search").id
    specs = {
        "lr-l2": ({"penalty": "l2", "C": "0.5"}, {"auc": 0.91, "f1": 0.84}, {"team": "risk"}),
        "lr-l1": ({"penalty": "l1", "C": "2"}, {"auc": 0.85}, {"team": "growth"}),
        "rf": ({"model": "RandomForest", "C": "auto"}, {"auc": 0.95, "f1": 0.7}, {}),
        "xgb": ({"model": "xgboost"}, {"auc": math.nan}, {"team": "Risk"}),
        "empty": ({}, {}, {"note": "with space"}),
    }
    ids: dict[str, str] = {}
    for start, (name, (params, metrics, tags)) in enumerate(specs.items()):
        run = service.create_run(experiment, run_name=name, start_time=1000 + start, user="ana")
        service.log_batch(
            run.id,
            metrics=[Metric(k, v, 1, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        ids[name] = run.id
    dataset = Dataset("cards", "abc123", "parquet", "/data/cards.parquet")
    service.log_inputs(ids["lr-l2"], [RunInput(dataset, "training")])
    service.end_run(ids["rf"])
    return service, experiment, ids


def names(
    service: TrackingService,
    experiment: str,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[str]:
    page = service.search_runs([experiment], filter_string=filter_string, order_by=order_by)
    return [run.name for run in page]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.auc > 0.9", {"lr-l2", "rf"}),
        ("metrics.auc >= 0.91", {"lr-l2", "rf"}),
        ("metrics.auc < 0.9", {"lr-l1"}),
        ("metrics.auc <= 0.85", {"lr-l1"}),
        ("metrics.auc = 0.85", {"lr-l1"}),
        ("metrics.auc != 0.85", {"lr-l2", "rf"}),
        ("metrics.f1 IS NULL", {"lr-l1", "xgb", "empty"}),
        ("metrics.f1 IS NOT NULL", {"lr-l2", "rf"}),
        ("metrics.auc IN (0.85, 0.95)", {"lr-l1", "rf"}),
        ("params.penalty = 'l2'", {"lr-l2"}),
        ("params.penalty != 'l2'", {"lr-l1"}),
        ("params.C > 1", {"lr-l1"}),
        ("params.C < 1", {"lr-l2"}),
        ("params.C = 2", {"lr-l1"}),
        ("params.C = 'auto'", {"rf"}),
        ("params.model LIKE 'Random%'", {"rf"}),
        ("params.model LIKE 'random%'", set()),
        ("params.model ILIKE 'random%'", {"rf"}),
        ("params.model NOT LIKE 'x%'", {"rf"}),
        ("params.penalty IN ('l1', 'l2')", {"lr-l1", "lr-l2"}),
        ("params.penalty NOT IN ('l1')", {"lr-l2"}),
        ("tags.team = 'risk'", {"lr-l2"}),
        ("tags.team ILIKE 'risk'", {"lr-l2", "xgb"}),
        ("tags.team IS NULL", {"rf", "empty"}),
        ("tags.note = 'with space'", {"empty"}),
        ("attributes.run_name = 'rf'", {"rf"}),
        ("run_name LIKE 'lr-%'", {"lr-l1", "lr-l2"}),
        ("attributes.status = 'FINISHED'", {"rf"}),
        ("status != 'FINISHED'", {"lr-l2", "lr-l1", "xgb", "empty"}),
        ("attributes.start_time >= 1003", {"xgb", "empty"}),
        ("attributes.end_time IS NOT NULL", {"rf"}),
        ("attributes.user = 'ana'", {"lr-l2", "lr-l1", "rf", "xgb", "empty"}),
        ("datasets.name = 'cards'", {"lr-l2"}),
        ("datasets.digest = 'abc123' AND datasets.context = 'training'", {"lr-l2"}),
        ("datasets.name IS NULL", {"lr-l1", "rf", "xgb", "empty"}),
        ("NOT metrics.auc > 0.9", {"lr-l1", "xgb", "empty"}),
        (
            "metrics.auc > 0.9 and (params.penalty = 'l2' or tags.team = 'risk')",
            {"lr-l2"},
        ),
        ("metrics.auc > 0.8 AND NOT (params.C = 'auto' OR params.penalty = 'l1')", {"lr-l2"}),
        ("params.`C` = '0.5'", {"lr-l2"}),
    ],
)
def test_filters(
    seeded: tuple[TrackingService, str, dict[str, str]], filter_string: str, expected: set[str]
) -> None:
    service, experiment, _ = seeded
    assert set(names(service, experiment, filter_string)) == expected


def test_filter_on_run_id(seeded: tuple[TrackingService, str, dict[str, str]]) -> None:
    service, experiment, ids = seeded
    found = names(service, experiment, f"attributes.run_id IN ('{ids['rf']}', '{ids['xgb']}')")
    assert set(found) == {"rf", "xgb"}


def test_default_order_is_newest_first(seeded: tuple[TrackingService, str, dict[str, str]]) -> None:
    service, experiment, _ = seeded
    assert names(service, experiment) == ["empty", "xgb", "rf", "lr-l1", "lr-l2"]


def test_order_by_metric_puts_missing_last(
    seeded: tuple[TrackingService, str, dict[str, str]],
) -> None:
    service, experiment, _ = seeded
    desc = names(service, experiment, order_by=["metrics.auc DESC"])
    asc = names(service, experiment, order_by=["metrics.auc ASC"])
    assert desc[:3] == ["rf", "lr-l2", "lr-l1"]
    assert asc[:3] == ["lr-l1", "lr-l2", "rf"]
    assert set(desc[3:]) == set(asc[3:]) == {"xgb", "empty"}


def test_order_by_param_tag_and_attribute(
    seeded: tuple[TrackingService, str, dict[str, str]],
) -> None:
    service, experiment, _ = seeded
    assert names(service, experiment, "params.penalty IS NOT NULL", ["params.penalty"]) == [
        "lr-l1",
        "lr-l2",
    ]
    assert names(service, experiment, order_by=["attributes.run_name"])[:2] == ["empty", "lr-l1"]
    # Strings sort by code point on both backends: "risk" > "growth" > "Risk".
    by_team = names(service, experiment, order_by=["tags.team DESC"])
    assert by_team[:3] == ["lr-l2", "lr-l1", "xgb"]


def test_deleted_runs_are_hidden_by_default(
    seeded: tuple[TrackingService, str, dict[str, str]],
) -> None:
    service, experiment, ids = seeded
    service.delete_run(ids["rf"])
    assert "rf" not in names(service, experiment)
    deleted = service.search_runs([experiment], view=ViewType.DELETED_ONLY)
    assert [r.name for r in deleted] == ["rf"]


def test_syntax_error_points_at_the_problem(
    seeded: tuple[TrackingService, str, dict[str, str]],
) -> None:
    service, experiment, _ = seeded
    with pytest.raises(SearchSyntaxError) as error:
        service.search_runs([experiment], filter_string="metrics.auc > 0.9 AND AND")
    assert error.value.position == 22


def test_page_token_must_match_the_query(
    seeded: tuple[TrackingService, str, dict[str, str]],
) -> None:
    service, experiment, _ = seeded
    page = service.search_runs([experiment], max_results=2)
    assert page.next_page_token is not None
    with pytest.raises(InvalidArgument, match="different query"):
        service.search_runs(
            [experiment],
            filter_string="metrics.auc > 0",
            max_results=2,
            page_token=page.next_page_token,
        )
    with pytest.raises(InvalidArgument, match="invalid page_token"):
        service.search_runs([experiment], page_token="garbage!")


@pytest.mark.parametrize(
    "order",
    [
        ["metrics.score DESC"],
        ["params.group", "metrics.score"],
        ["tags.bucket DESC", "attributes.start_time"],
        [],
    ],
)
def test_keyset_paging_matches_one_big_page(service: TrackingService, order: list[str]) -> None:
    """Paging through ties, missing values, NaN and infinities returns every run exactly once."""
    experiment = service.create_experiment("paging").id
    rng = random.Random(7)
    choices = [0.1, 0.5, 0.5, math.inf, -math.inf, math.nan, None]
    for i in range(40):
        run = service.create_run(experiment, run_name=f"r{i}", start_time=1000 + i % 5)
        score = rng.choice(choices)
        service.log_batch(
            run.id,
            metrics=[] if score is None else [Metric("score", score, 1, 0)],
            params=[Param("group", rng.choice("ab"))] if i % 3 else [],
            tags=[RunTag("bucket", rng.choice("xyz"))] if i % 4 else [],
        )
    everything = [r.id for r in service.search_runs([experiment], order_by=order, max_results=100)]
    assert len(everything) == 40
    paged: list[str] = []
    token = None
    while True:
        page = service.search_runs([experiment], order_by=order, max_results=7, page_token=token)
        paged.extend(r.id for r in page)
        token = page.next_page_token
        if token is None:
            break
    assert paged == everything


def test_search_across_experiments(service: TrackingService) -> None:
    first = service.create_experiment("one").id
    second = service.create_experiment("two").id
    service.create_run(first, run_name="a")
    service.create_run(second, run_name="b")
    found = {r.name for r in service.search_runs([first, second])}
    assert found == {"a", "b"}
    assert {r.name for r in service.search_runs([second])} == {"b"}
    with pytest.raises(InvalidArgument, match="at least one"):
        service.search_runs([])


@pytest.mark.parametrize(
    ("filter_string", "order_by", "expected"),
    [
        # Conditions on the ordering metric go on its joined row (sql_search.py).
        ("metrics.auc > 0.8", ["metrics.auc DESC"], ["rf", "lr-l2", "lr-l1"]),
        ("metrics.auc != 0.85 and params.C IS NOT NULL", ["metrics.auc"], ["lr-l2", "rf"]),
        ("metrics.auc > 0.8 and metrics.auc < 0.95", ["metrics.auc DESC"], ["lr-l2", "lr-l1"]),
        ("metrics.auc IN (0.85, 0.95)", ["metrics.f1 DESC", "metrics.auc"], ["rf", "lr-l1"]),
        # These stay filters: missing and NaN values still match and sort last.
        ("metrics.auc > 0.9 or tags.team = 'Risk'", ["metrics.auc DESC"], ["rf", "lr-l2", "xgb"]),
        ("NOT metrics.auc > 0.9", ["metrics.auc"], ["lr-l1", "xgb", "empty"]),
        ("metrics.auc IS NOT NULL", ["metrics.auc DESC"], ["rf", "lr-l2", "lr-l1", "xgb"]),
    ],
)
def test_filter_on_the_ordering_metric(
    seeded: tuple[TrackingService, str, dict[str, str]],
    filter_string: str,
    order_by: list[str],
    expected: list[str],
) -> None:
    service, experiment, _ = seeded
    found = names(service, experiment, filter_string, order_by)
    if len(set(found) & {"xgb", "empty"}) == 2:  # NaN and missing tie: either order
        assert found[:-2] == expected[:-2]
        assert set(found[-2:]) == set(expected[-2:])
    else:
        assert found == expected
    assert set(found) == set(names(service, experiment, filter_string))


def test_split_order_metric_filters_moves_only_top_level_value_comparisons() -> None:
    from heron.search import parse_filter, parse_order_by
    from heron.search.ast import And
    from heron.store.sql_search import split_order_metric_filters

    expr = parse_filter("metrics.auc > 0.5 and params.model = 'a' and metrics.f1 < 1")
    remaining, moved = split_order_metric_filters(expr, parse_order_by(["metrics.auc DESC"]))
    assert list(moved) == ["auc"]
    assert [c.op for c in moved["auc"]] == [">"]
    assert isinstance(expr, And)
    assert remaining == And(expr.operands[1:])
    for untouched in ("metrics.auc IS NOT NULL", "metrics.auc > 0.5 or params.model = 'a'"):
        expr = parse_filter(untouched)
        assert split_order_metric_filters(expr, parse_order_by(["metrics.auc"])) == (expr, {})
    expr = parse_filter("metrics.auc > 0.5")
    assert split_order_metric_filters(expr, parse_order_by(["params.auc"])) == (expr, {})


def test_keyset_paging_with_a_filter_on_the_ordering_metric(service: TrackingService) -> None:
    experiment = service.create_experiment("paging-filtered").id
    rng = random.Random(11)
    expected = set()
    for i in range(40):
        run = service.create_run(experiment, run_name=f"r{i}")
        score = rng.choice([0.1, 0.5, 0.5, 0.9, math.inf, -math.inf, math.nan, None])
        if score is not None:
            service.log_batch(run.id, metrics=[Metric("score", score, 1, 0)])
        if score is not None and score >= 0.5:
            expected.add(run.id)
    query = {"filter_string": "metrics.score >= 0.5", "order_by": ["metrics.score DESC"]}
    everything = [r.id for r in service.search_runs([experiment], max_results=100, **query)]
    assert set(everything) == expected
    paged: list[str] = []
    token = None
    while True:
        page = service.search_runs([experiment], max_results=3, page_token=token, **query)
        paged.extend(r.id for r in page)
        token = page.next_page_token
        if token is None:
            break
    assert paged == everything
