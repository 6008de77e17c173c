"""The web UI end to end: Debian's Chromium, driven by Playwright, against a real
`heron server` over seeded data. Screenshots land in test-artifacts/ui/ (git-ignored)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.conftest import IN_CI
from tests.live_server import LiveServer
from tests.ui_seed import APPROVER, MODEL, XSS_NAME, Seeded, seed_ui_data

from heron.server.ui import UI_DIST

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("HERON_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "ui"


def _missing(message: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        _missing(f"{CHROMIUM} is missing: install it with `apt-get install chromium`")
    if not (UI_DIST / "index.html").is_file():
        _missing("the web UI is not built: run `make ui`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def seeded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Seeded]]:
    folder = tmp_path_factory.mktemp("ui")
    seeded = seed_ui_data(folder)
    server = LiveServer(folder)
    server.start()
    yield server, seeded
    server.stop()


class Page:
    """A browser tab on the server that records what must never happen: script dialogs,
    uncaught errors and console errors (Content-Security-Policy violations land there)."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._on_console)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def open(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page


@pytest.fixture
def tab(
    browser: Any, seeded_server: tuple[LiveServer, Seeded], request: pytest.FixtureRequest
) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    wrapped = Page(context.new_page(), seeded_server[0].url)
    yield wrapped
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wrapped.page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert wrapped.dialogs == [], "a script dialog opened: user text was run as markup"
    assert wrapped.errors == []


def _snapshot(page: Any, name: str) -> None:
    """A screenshot of a view the test then leaves (the fixture shoots the last one)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _row_names(page: Any) -> list[str]:
    page.wait_for_selector("[role=row][data-run-id]")
    names: list[str] = page.locator("[role=row][data-run-id] .run-name a").all_inner_texts()
    return names


def test_each_view_loads(tab: Page, seeded_server: tuple[LiveServer, Seeded]) -> None:
    _server, seeded = seeded_server
    page = tab.open("/")
    page.get_by_role("link", name="fraud").wait_for()
    page.get_by_role("link", name="churn").wait_for()
    page.get_by_label("Search experiments by name").fill("chu")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="fraud").wait_for(state="detached")
    assert "q=chu" in page.url

    page = tab.open(f"/experiments?ids={seeded.experiment_id}")
    assert len(_row_names(page)) == 5

    best = seeded.run_ids["lr-0.01"]
    page = tab.open(f"/runs/{best}")
    page.get_by_role("cell", name="FINISHED").wait_for()
    for name, expected in (
        ("Params", "learning_rate"),
        ("Tags", "team"),
        ("Datasets", "d1g3st"),
    ):
        page.get_by_role("tab", name=name).click()
        page.get_by_text(expected, exact=True).wait_for()

    page = tab.open(f"/runs/{best}?tab=artifacts&file=plot.png")
    image = page.locator("img.artifact-image")
    image.wait_for()
    expect(image).to_have_js_property("naturalWidth", 2)  # decoded: a real 2x2 image
    page.get_by_role("button", name="config.json").click()
    page.locator("pre.artifact-text").get_by_text('"layers"').wait_for()
    page.get_by_role("button", name="predictions.csv").click()
    csv = page.get_by_role("table", name="CSV preview")
    csv.get_by_role("cell", name="0.91").wait_for()
    assert csv.get_by_role("cell").all_inner_texts() == ["1", "0.91", "2", "0.12"]
    page.get_by_role("button", name="report.html").click()
    page.get_by_text("No preview for this kind of file").wait_for()
    assert page.locator("iframe").count() == 0
    assert page.get_by_role("link", name="Download").get_attribute("download") == "report.html"

    page = tab.open("/models")
    page.get_by_role("link", name=MODEL).click()
    page.get_by_role("table", name="Versions").get_by_text("@challenger").wait_for()
    graph = page.get_by_role("img", name="Lineage graph")
    graph.locator("text.label", has_text="transactions (d1g3st)").wait_for()
    assert graph.locator("path.edge").count() == 2
    page.get_by_role("table", name="Audit history").get_by_text("request.create").wait_for()


def test_filter_and_sort_run_on_the_server_and_live_in_the_url(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    _server, seeded = seeded_server
    page = tab.open(f"/experiments?ids={seeded.experiment_id}")
    _row_names(page)
    page.get_by_label("Filter runs").fill("metrics.auc > 0.85")
    page.get_by_role("button", name="Filter", exact=True).click()
    rows = page.locator("[role=row][data-run-id] .run-name a")
    expect(rows).to_have_count(2)
    assert sorted(_row_names(page)) == ["lr-0.01", "lr-0.03"]

    page.get_by_role("button", name="metrics.auc").click()
    page.wait_for_url(re.compile(r"sort=metrics%3Aauc"))
    expect(rows.first).to_have_text("lr-0.01")
    page.get_by_role("button", name=re.compile(r"^metrics\.auc")).click()  # now ascending
    page.wait_for_url(re.compile(r"dir=asc"))
    expect(rows.first).to_have_text("lr-0.03")
    page.reload()  # filter and sort come back from the URL
    assert _row_names(page) == ["lr-0.03", "lr-0.01"]

    page.get_by_label("Filter runs").fill("metrics.auc >> 1")
    page.get_by_role("button", name="Filter", exact=True).click()
    alert = page.locator(".syntax-error")
    alert.wait_for()
    assert "position 13" in alert.inner_text()
    assert page.locator(".syntax-mark").inner_text() == ">"
    # The server refused the filter; the browser logged that 400, which is expected here.
    tab.errors = [e for e in tab.errors if "status of 400" not in e]


def test_compare_selected_runs_with_overlaid_chart(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    _server, seeded = seeded_server
    page = tab.open(f"/experiments?ids={seeded.experiment_id}")
    _row_names(page)
    page.get_by_label("Select run lr-0.01").check()
    page.get_by_label("Select run lr-0.3").check()
    page.get_by_role("button", name="Compare selected").click()
    page.wait_for_url(re.compile(r"/compare\?runs="))

    params = page.get_by_role("table", name="Params")
    learning_rate = params.locator("tr", has_text="learning_rate")
    assert learning_rate.get_attribute("class") == "differs"
    assert params.locator("tr", has_text="optimizer").get_attribute("class") is None
    assert learning_rate.locator("td").all_inner_texts() in (["0.01", "0.3"], ["0.3", "0.01"])

    chart = page.locator(".metric-chart", has=page.locator(".u-title", has_text="loss"))
    chart.locator("canvas").wait_for()
    assert chart.get_attribute("data-series") == "2"
    assert int(chart.get_attribute("data-points") or 0) == 400  # 2 runs x 200 steps
    assert _canvas_has_ink(page, chart)

    page.get_by_label("Log scale").check()
    page.wait_for_url(re.compile(r"log=1"))
    page.reload()  # chart settings come back from the URL
    assert page.get_by_label("Log scale").is_checked()
    page.locator(".metric-chart canvas").first.wait_for()


def _canvas_has_ink(page: Any, chart: Any) -> bool:
    """Whether the chart's canvas has coloured (drawn-line) pixels, not only the grid."""
    handle = chart.locator("canvas").element_handle()
    coloured: int = page.evaluate(
        """(canvas) => {
            const { width, height } = canvas;
            const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
            let count = 0;
            for (let i = 0; i < data.length; i += 4) {
                const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
                if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 60) count++;
            }
            return count;
        }""",
        handle,
    )
    return coloured > 100


def test_transition_request_is_approved_through_the_ui(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    server, seeded = seeded_server
    page = tab.open(f"/models/{MODEL}")
    page.get_by_label("Your user name").fill(APPROVER)
    page.get_by_role("button", name="Save").click()
    page.reload()
    page.get_by_text(f"Deciding as {APPROVER}").wait_for()
    row = page.locator(f"tr[data-request-id='{seeded.request_id}']")
    page.get_by_label("Decision comment").fill("looks good")
    row.get_by_role("button", name="Approve").click()
    row.locator(".request-status", has_text="APPROVED").wait_for()
    page.get_by_role("table", name="Model").get_by_text("@champion → v2").wait_for()

    model = httpx.get(f"{server.url}/api/v1/registered-models/{MODEL}").json()
    assert model["aliases"]["champion"] == 2
    events = httpx.get(f"{server.url}/api/v1/registered-models/{MODEL}/history").json()["events"]
    approval = [e for e in events if e["action"] == "request.approve"]
    assert approval
    assert approval[-1]["actor"] == APPROVER


def test_hostile_run_name_is_shown_as_text(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    _server, seeded = seeded_server
    page = tab.open(f"/experiments?ids={seeded.experiment_id}")
    assert XSS_NAME in _row_names(page)
    hostile = seeded.run_ids[XSS_NAME]
    page = tab.open(f"/runs/{hostile}")
    assert page.locator("h1.run-title").inner_text() == XSS_NAME
    page.get_by_role("tab", name="Params").click()
    page.get_by_role("cell", name=XSS_NAME).wait_for()
    assert page.locator("img[src=x]").count() == 0
    page.wait_for_timeout(300)  # time for an injected onerror to fire, were there one


def test_experiments_list_shows_run_counts_and_last_activity(tab: Page) -> None:
    page = tab.open("/")
    fraud = page.locator("tr", has=page.get_by_role("link", name="fraud", exact=True))
    expect(fraud.locator("td.run-count")).to_have_text("5")  # 4 lr runs and the hostile one
    churn = page.locator("tr", has=page.get_by_role("link", name="churn", exact=True))
    expect(churn.locator("td.run-count")).to_have_text("1")
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", fraud.locator("td.last-activity").inner_text()
    )


def _groups(page: Any) -> dict[str, str]:
    rows = page.locator(".group-row")
    return {
        row.get_attribute("data-group"): row.locator(".group-count").inner_text()
        for row in rows.all()
    }


def test_group_by_a_tag_collapses_and_lives_in_the_url(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    _server, seeded = seeded_server
    page = tab.open(f"/experiments?ids={seeded.experiment_id}&sort=metrics%3Aauc")
    _row_names(page)
    page.get_by_label("Group by").select_option("tags:team")
    page.wait_for_url(re.compile(r"group=tags%3Ateam"))
    expect(page.locator(".group-row")).to_have_count(3)
    assert _groups(page) == {"risk": "2 runs", "growth": "2 runs", "(no value)": "1 run"}
    # Sorted by auc (descending): the group of the best run comes first, with the
    # sorted metric's aggregate.
    risk = page.locator(".group-row[data-group=risk]")
    assert page.locator(".group-row").first.get_attribute("data-group") == "risk"
    assert "auc: mean 0.88 · min 0.84 · max 0.92" in risk.inner_text()
    assert _row_names(page)[:2] == ["lr-0.01", "lr-0.1"]

    risk.get_by_role("button", name="risk").click()
    page.wait_for_url(re.compile(r"collapsed="))
    expect(page.locator("[role=row][data-run-id]")).to_have_count(3)
    assert "lr-0.01" not in _row_names(page)
    page.reload()  # grouping and collapsed groups come back from the URL
    expect(page.locator(".group-row")).to_have_count(3)
    expect(page.locator("[role=row][data-run-id]")).to_have_count(3)
    assert (
        page.locator(".group-row[data-group=risk] button").get_attribute("aria-expanded") == "false"
    )


def test_group_by_a_param_shows_a_hostile_value_as_text(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    _server, seeded = seeded_server
    page = tab.open(f"/experiments?ids={seeded.experiment_id}&group=params%3Alearning_rate")
    page.locator(".group-row").first.wait_for()
    assert XSS_NAME in _groups(page)
    assert page.locator("img[src=x]").count() == 0
    page.wait_for_timeout(300)


def test_scatter_plot_of_a_param_against_a_metric(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    _server, seeded = seeded_server
    page = tab.open(f"/experiments?ids={seeded.experiment_id}")
    _row_names(page)
    page.get_by_role("tab", name="Scatter plot").click()
    page.get_by_label("Scatter X").select_option("params:learning_rate")
    page.get_by_label("Scatter Y").select_option("metrics:auc")
    page.wait_for_url(re.compile(r"panel=scatter.*sy=metrics%3Aauc"))
    plot = page.get_by_role("img", name="Scatter plot of metrics.auc against params.learning_rate")
    points = plot.locator("circle.point")
    expect(points).to_have_count(4)  # the hostile run has no auc
    # Numeric axes: the best run (lr 0.01, auc 0.92) sits leftmost and highest.
    best = seeded.run_ids["lr-0.01"]
    spots = {
        p.get_attribute("data-run-id"): (float(p.get_attribute("cx")), float(p.get_attribute("cy")))
        for p in points.all()
    }
    assert min(spots, key=lambda run: spots[run][0]) == best
    assert min(spots, key=lambda run: spots[run][1]) == best
    assert (
        plot.locator(f"circle[data-run-id='{best}'] title").text_content() == "lr-0.01: 0.01, 0.92"
    )

    page.get_by_label("Filter runs").fill("metrics.auc > 0.85")  # the table's filter applies
    page.get_by_role("button", name="Filter", exact=True).click()
    expect(points).to_have_count(2)
    page.reload()  # axes come back from the URL
    expect(points).to_have_count(2)
    _snapshot(page, "scatter_plot")
    points.and_(page.locator(f"[data-run-id='{best}']")).click()
    page.wait_for_url(re.compile(f"/runs/{best}"))
    expect(page.locator("h1.run-title")).to_have_text("lr-0.01")


def test_parallel_coordinates_of_params_against_a_metric(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    _server, seeded = seeded_server
    page = tab.open(
        f"/experiments?ids={seeded.experiment_id}&panel=parallel"
        "&pc=params%3Alearning_rate,tags%3Ateam&pm=metrics%3Aauc"
    )
    plot = page.get_by_role("img", name=re.compile("^Parallel coordinates"))
    lines = plot.locator("path.run-line")
    expect(lines).to_have_count(4)
    axes = plot.locator("g.axis").evaluate_all("(gs) => gs.map((g) => g.dataset.axis)")
    assert axes == ["params.learning_rate", "tags.team", "metrics.auc"]
    best = seeded.run_ids["lr-0.01"]
    line = plot.locator(f"path[data-run-id='{best}']")
    assert line.locator("title").text_content() == (
        "lr-0.01\nparams.learning_rate = 0.01\ntags.team = risk\nmetrics.auc = 0.92"
    )
    worst = plot.locator(f"path[data-run-id='{seeded.run_ids['lr-0.3']}']")
    # Coloured by the metric: red for the highest auc, blue for the lowest.
    assert line.get_attribute("stroke") == "hsl(0, 70%, 45%)"
    assert worst.get_attribute("stroke") == "hsl(230, 70%, 45%)"

    page.get_by_role("group", name="Axes").get_by_label("tags.team").uncheck()
    # List values are encoded one by one, then the query string encodes them again.
    page.wait_for_url(re.compile(r"pc=params%(25)?3Alearning_rate(&|$)"))
    expect(plot.locator("g.axis")).to_have_count(2)
    _snapshot(page, "parallel_coordinates")
    line.dispatch_event("click")
    page.wait_for_url(re.compile(f"/runs/{best}"))


def test_parquet_and_model_manifest_previews(
    tab: Page, seeded_server: tuple[LiveServer, Seeded]
) -> None:
    _server, seeded = seeded_server
    best = seeded.run_ids["lr-0.01"]
    page = tab.open(f"/runs/{best}?tab=artifacts&file=scores.parquet")
    table = page.get_by_role("table", name="Parquet preview")
    table.get_by_role("cell", name="0.91").wait_for()
    assert table.locator("thead th").all_inner_texts() == [
        "id int64",
        "score double",
        "note string",
    ]
    assert table.locator("tbody tr").nth(1).locator("td").all_inner_texts() == [
        "2",
        "0.12",
        XSS_NAME,
    ]
    assert table.locator("tbody tr").nth(2).locator("td").all_inner_texts()[1] == "null"
    page.get_by_text("First 3 of 3 rows").wait_for()
    _snapshot(page, "parquet_preview")

    page = tab.open(f"/runs/{best}?tab=artifacts&file=model%2Fheron-model.yaml")
    model = page.get_by_role("table", name="Model")
    model.get_by_text("Heron model (heron-model.yaml)").wait_for()
    assert model.locator("td.flavors").inner_text() == "python_function"
    inputs = page.get_by_role("table", name="Signature inputs")
    assert inputs.locator("tbody td").all_inner_texts()[:2] == ["age", "long"]
    outputs = page.get_by_role("table", name="Signature outputs")
    assert outputs.locator("tbody td").all_inner_texts()[:2] == ["score", "double"]
    _snapshot(page, "heron_model_manifest")

    page = tab.open(f"/runs/{best}?tab=artifacts&file=mlflow-model%2FMLmodel")
    page.get_by_role("table", name="Model").get_by_text("MLflow model (MLmodel)").wait_for()
    assert page.locator("td.flavors").inner_text() == "python_function, sklearn"
    outputs = page.get_by_role("table", name="Signature outputs")
    assert outputs.locator("tbody td").all_inner_texts() == ["0", "int64", "shape [-1]"]
    environment = page.get_by_role("table", name="Environment")
    assert "3.11.9" in environment.inner_text()
    assert environment.locator("pre").inner_text() == "mlflow==2.20.0\nscikit-learn==1.5.2"
