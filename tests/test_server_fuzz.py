"""Property-based fuzzing of every operation in the server's /openapi.json (schemathesis).

Schemathesis reads the spec and, per operation, sends the coverage phase's boundary cases
(missing fields, wrong types, undeclared methods, ...) and then hypothesis-generated
requests, valid and invalid, to the in-process app; a stateful test then chains calls
along the links it infers (create an experiment, then read, rename, tag, delete it, ...).
Every response must:

- not be a 5xx: bad input is the client's fault and gets a 4xx with a clear message;
- have a status code, content type, headers and body that the spec documents, so clients
  generated from /openapi.json can rely on it;
- answer an undeclared method with 405 and an ``Allow`` header naming the real methods.

Two checks stay off on purpose. ``positive_data_acceptance``: the spec gives types, while
business rules (key characters, name lengths, terminal statuses, ...) live in
TrackingService and answer 400 INVALID_ARGUMENT, so "schema-valid" input may be refused.
``negative_data_rejection``: the server is lenient by design (numbers are accepted where
strings are expected, unknown fields are ignored; see heron.server.request_models).

Both stores are fuzzed: PostgreSQL refuses data that SQLite takes (NUL characters, numbers
beyond 64 bits), and a server must answer 400 for those on either.

The seed is fixed so that CI fuzzes the same way on every run and a red run means the
submission broke something; to explore, set HERON_FUZZ_SEED (an integer, or "random") and
HERON_FUZZ_MAX_EXAMPLES (e.g. 500).
"""

from __future__ import annotations

import io
import os
import random
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, note, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from asgi import TestClient
from heron.entities import Dataset, Metric, Param, RunInput, RunTag
from heron.server import ServerSettings, create_app
from heron.server.responses import ServerState
from heron.store.schema import metadata

# About 30-40 s: two stores, each with about 25 operations and a stateful run.
pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
]

# Generated requests per operation (about 25 operations, two stores), on top of the coverage
# phase's fixed cases: enough for shallow crashes on every CI run with the module well
# under a minute on 2 cores.
MAX_EXAMPLES = int(os.environ.get("HERON_FUZZ_MAX_EXAMPLES", "25"))
_SEED_SETTING = os.environ.get("HERON_FUZZ_SEED", "20261123")
SEED = random.getrandbits(64) if _SEED_SETTING == "random" else int(_SEED_SETTING)

SEEDED_METRIC = "loss"
SEEDED_ARTIFACT = "model/weights.bin"


class Seeded:
    """An app on a store holding one experiment and one run with data, so that the fuzzer's
    requests can reach real resources; ``reset`` brings it back to just that."""

    def __init__(self, uri: str, artifact_root: Path) -> None:
        self.uri = uri
        self.artifact_root = artifact_root
        self.app = create_app(ServerSettings(uri, str(artifact_root)))
        self.state: ServerState = self.app.state.heron
        self.experiment_id = ""
        self.run_id = ""
        self.reset()

    def reset(self) -> None:
        # Emptied with SQL of its own, as conftest does: the store has no "delete all".
        # Restarting identities gives the seeded experiment the same id every time.
        engine = sa.create_engine(self.uri)
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                tables = ", ".join(table.name for table in metadata.sorted_tables)
                conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            else:
                for table in reversed(metadata.sorted_tables):
                    conn.execute(table.delete())
        engine.dispose()
        shutil.rmtree(self.artifact_root, ignore_errors=True)
        # Seeded through the service: the fuzzed routes are what is under test here, and
        # the service is what those routes call.
        service = self.state.service
        experiment = service.create_experiment("fuzz-seed", tags={"team": "fuzz"})
        run = service.create_run(experiment.id, run_name="seeded-run", tags={"stage": "dev"})
        points = [Metric(SEEDED_METRIC, 1 / (i + 1), 1_700_000_000_000, i) for i in range(30)]
        service.log_batch(
            run.id,
            metrics=[*points, Metric(SEEDED_METRIC, float("nan"), 1_700_000_000_000, 30)],
            params=[Param("lr", "0.1")],
            tags=[RunTag("owner", "fuzzer")],
        )
        dataset = Dataset("digits", "abc123", "numpy", "memory", {"x": "float"}, {"rows": 10})
        service.log_inputs(run.id, [RunInput(dataset, "training")])
        service.write_artifact(run.id, SEEDED_ARTIFACT, io.BytesIO(b"\x00" * 64))
        self.experiment_id, self.run_id = experiment.id, run.id


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """One seeded app per store for the whole module (on PostgreSQL, this test worker's
    database: emptied first of what other modules left)."""
    root: Path = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        uri = f"sqlite:///{root / 'heron.db'}"
    else:
        uri = request.getfixturevalue("postgres_url")
    seeded = Seeded(uri, root / "artifacts")
    yield seeded
    # schemathesis runs the app's lifespan for its requests: end it, which closes the store
    # (closed here too, for a run with no schemathesis request, e.g. with -k).
    from schemathesis.python import asgi as schemathesis_asgi

    schemathesis_asgi.shutdown_lifespans()
    seeded.state.store.close()


def _load_schema() -> Any:
    """The spec of an app on a throwaway store, read at import so that pytest collects one
    test per operation; the requests go to the seeded app of the ``seeded`` fixture."""
    with tempfile.TemporaryDirectory() as root:
        app = create_app(ServerSettings(f"sqlite:///{root}/spec.db", f"{root}/artifacts"))
        try:
            spec = app.openapi()
        finally:
            app.state.heron.store.close()
    # An explicit config, so that a stray schemathesis.toml cannot change this test.
    return schemathesis.openapi.from_dict(spec, config=SchemathesisConfig(seed=SEED))


schema = _load_schema()

FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    # In-process requests are fast, but a loaded CI machine must not turn into a flake.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def _picks_seeded(case: Any) -> bool:
    """Whether this case goes to the seeded resources: about half do.

    Decided from the case's own data, not drawn with ``schema.given``: schemathesis skips
    its coverage phase for tests that draw extra data, and hypothesis needs the same input
    to make the same request when it replays or shrinks a failure."""
    data = repr((case.method, case.path_parameters, case.query, case.body))
    return zlib.crc32(data.encode("utf-8", "surrogatepass")) % 2 == 0


def _use_seeded_resources(case: Any, seeded: Seeded) -> None:
    """Point the case's ids (in the path or the body) at the seeded experiment and run, so
    that the fuzzer reaches the routes' logic rather than only their 404s."""
    body = case.body
    if isinstance(body, dict):
        if "experiment_id" in body:
            body["experiment_id"] = seeded.experiment_id
        if isinstance(body.get("experiment_ids"), list):
            body["experiment_ids"] = [seeded.experiment_id]
        if body.get("parent_run_id") is not None:
            body["parent_run_id"] = seeded.run_id
    path = case.path_parameters
    if not path:
        return
    if "experiment_id" in path:
        path["experiment_id"] = seeded.experiment_id
    if "run_id" in path:
        path["run_id"] = seeded.run_id
    if "name" in path:
        # A PATCH may have renamed it: look the current name up.
        path["name"] = seeded.state.service.get_experiment(seeded.experiment_id).name
    if "key" in path and case.operation.path.endswith("/history"):
        path["key"] = SEEDED_METRIC
    if case.operation.path.endswith("/artifacts/content") and case.method == "GET":
        case.query = {**(case.query or {}), "path": SEEDED_ARTIFACT}


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_survives_fuzzing(case: Any, seeded: Seeded) -> None:
    note(f"reproduce with HERON_FUZZ_SEED={SEED}")
    if _picks_seeded(case):
        _use_seeded_resources(case, seeded)
    case.call_and_validate(checks=CHECKS, app=seeded.app)


def test_call_sequences_survive_fuzzing(seeded: Seeded) -> None:
    """Chains of calls along the links schemathesis infers from the spec (an id a response
    returns feeds the next call's path), which reach states single calls do not: a renamed,
    tagged, deleted and restored experiment, runs of a new experiment, and so on."""

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Every scenario starts from the same data: hypothesis replays scenarios to
            # shrink them, and one that met another scenario's leftovers would not replay.
            seeded.reset()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"app": seeded.app}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs)

    Sequences.run(
        settings=settings(
            FUZZ_SETTINGS, max_examples=max(10, MAX_EXAMPLES // 2), stateful_step_count=8
        )
    )


# -- what the fuzzer found ----------------------------------------------------------------
# Each of these was a 500, kept as fixed examples so that they stay fixed whatever the seed
# draws. In paths and bodies, "RUN" and "EXP" stand for the seeded run and experiment.


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


FINDINGS = [
    # PostgreSQL refuses NUL in text; refused now on both stores, in bodies, paths, queries.
    ("POST", "/api/v1/experiments", {}, {}, {"name": "a\x00b"}, "'name' contains a NUL"),
    (
        "PUT",
        "/api/v1/experiments/{experiment_id}/tags/{key}",
        {"experiment_id": "EXP", "key": "k"},
        {},
        {"value": "\x00"},
        "'value' contains a NUL",
    ),
    (
        "POST",
        "/api/v1/runs/{run_id}/batch",
        {"run_id": "RUN"},
        {},
        {"params": [{"key": "p", "value": "v\x00"}]},
        "'params[0].value' contains a NUL",
    ),
    ("GET", "/api/v1/runs/{run_id}", {"run_id": "\x00"}, {}, None, "'run_id' contains a NUL"),
    ("GET", "/api/v1/experiments", {}, {"name_like": "%\x00"}, None, "'name_like' contains a NUL"),
    # JSON can escape half of a UTF-16 pair ("\udc00"), which no UTF-8 text can hold.
    (
        "POST",
        "/api/v1/experiments",
        {},
        {},
        {"name": "x", "tags": {"k": "\udc00"}},
        "'tags.k' contains a lone UTF-16 surrogate",
    ),
    # Integers beyond the 64-bit columns overflowed in the database driver.
    (
        "POST",
        "/api/v1/runs",
        {},
        {},
        {"experiment_id": "EXP", "start_time": 2**63},
        "'start_time': Input should be less than or equal to 9223372036854775807",
    ),
    (
        "PATCH",
        "/api/v1/runs/{run_id}",
        {"run_id": "RUN"},
        {},
        {"end_time": -(2**70)},
        "'end_time': Input should be greater than or equal to -9223372036854775808",
    ),
    (
        "POST",
        "/api/v1/runs/search",
        {},
        {},
        {"experiment_ids": ["EXP"], "max_results": 2**64},
        "'max_results': Input should be less than or equal to",
    ),
    # float() overflows on an integer written out in full.
    (
        "POST",
        "/api/v1/runs/{run_id}/batch",
        {"run_id": "RUN"},
        {},
        {"metrics": [{"key": "m", "value": 10**400, "timestamp": 1}]},
        "beyond the range of a 64-bit float",
    ),
    # A dataset's schema and profile are stored as JSON text by orjson, which has limits
    # that parsing JSON does not: 64-bit integers, nesting under 255 levels.
    (
        "POST",
        "/api/v1/runs/{run_id}/inputs",
        {"run_id": "RUN"},
        {},
        {"inputs": [{"dataset": {"name": "d", "digest": "x", "schema": {"n": -(2**64)}}}]},
        "'inputs[0].dataset.schema': cannot be stored as JSON",
    ),
    (
        "POST",
        "/api/v1/runs/{run_id}/inputs",
        {"run_id": "RUN"},
        {},
        {"inputs": [{"dataset": {"name": "d", "digest": "x", "profile": {"n": _nested(300)}}}]},
        "'inputs[0].dataset.profile': cannot be stored as JSON",
    ),
]


def _with_seeded_ids(value: Any, seeded: Seeded) -> Any:
    if value == "EXP":
        return seeded.experiment_id
    if value == "RUN":
        return seeded.run_id
    if isinstance(value, dict):
        return {k: _with_seeded_ids(v, seeded) for k, v in value.items()}
    return value


@pytest.mark.parametrize(
    ("method", "path", "path_parameters", "query", "body", "message"),
    FINDINGS,
    ids=[message for *_, message in FINDINGS],
)
def test_fuzzer_findings_are_client_errors(
    seeded: Seeded,
    method: str,
    path: str,
    path_parameters: dict[str, str],
    query: dict[str, str],
    body: Any,
    message: str,
) -> None:
    operation = schema[path][method]
    case = operation.Case(
        path_parameters=_with_seeded_ids(path_parameters, seeded),
        query=query or None,
        **({"body": _with_seeded_ids(body, seeded)} if body is not None else {}),
    )
    # The same checks as the fuzzer: documented status, error body per the spec.
    response = case.call_and_validate(checks=CHECKS, app=seeded.app)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert message in error["message"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/experiments", "GET, POST"),
        ("OPTIONS", "/api/v1/runs/RUN", "DELETE, GET, PATCH"),
        # A concrete path wins over the template that also matches it, as in OpenAPI.
        ("PUT", "/api/v1/runs/search", "POST"),
        ("POST", "/health", "GET"),
        # Not a route of the API's routers: Starlette's own header stays.
        ("POST", "/openapi.json", "GET, HEAD"),
    ],
)
def test_405_names_every_method_of_the_path(
    seeded: Seeded, method: str, path: str, allow: str
) -> None:
    # Starlette's Allow named only the first route matching the path ("POST" here).
    client = TestClient(seeded.app)
    response = client.request(method, path.replace("RUN", seeded.run_id))
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert allow in response.json()["error"]["message"]
