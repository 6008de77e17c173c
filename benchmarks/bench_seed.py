"""Seeding the search workloads: thousands of runs, fast, through each product's schema.

Creating 10,000 runs through MLflow's API takes minutes, and the search benchmark is
about reading them, so runs are seeded in bulk (not timed). Imported by both workers;
needs only the standard library and SQLAlchemy, which both products ship.
"""

from __future__ import annotations

import uuid
from typing import Any

from bench_common import RunSpec, Side, now_ms, run_specs


def seed_runs(side: Side, experiment_name: str, count: int, seed: int) -> dict[str, Any]:
    """Create ``count`` runs fast, for the search workloads (not measured).

    One template run is logged through the product's own API; its rows, in whatever
    tables the product wrote them, are then cloned in bulk with each run's values. The
    product's schema is thus respected without this code knowing it, and the result is
    checked back through the API.
    """
    specs = run_specs(count, seed=seed, prefix="seed")
    experiment = side.new_experiment(experiment_name)
    template = specs[0]
    template_id = side.new_run(experiment, template.name)
    side.log_run_entities(template_id, side.run_entities(template, now_ms()))
    side.end_run(template_id)
    url, run_column = side.seed_target()
    new_ids = clone_run_rows(url, run_column, template_id, template.name, specs[1:])
    checked = [(template_id, template)] + [
        (new_ids[i - 1], specs[i]) for i in sorted({1, count // 2, count - 1}) if i >= 1
    ]
    for run_id, spec in checked:
        params, metrics, tags = side.run_data(run_id)
        user_tags = {k: v for k, v in tags.items() if k in spec.tags}
        if (params, {k: metrics.get(k) for k in spec.metrics}, user_tags) != (
            spec.params,
            spec.metrics,
            spec.tags,
        ):
            raise RuntimeError(f"seeded run {spec.name} does not read back as written")
    return {"experiment_id": experiment, "runs": count, "url": url}


def clone_run_rows(
    url: str, run_column: str, template_id: str, template_name: str, specs: list[RunSpec]
) -> list[str]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine)
    values = {}
    for spec in specs:
        values[spec.name] = {**spec.params, **spec.tags, **spec.metrics}
    new_ids = [uuid.uuid4().hex for _ in specs]
    with engine.begin() as conn:
        for table in meta.sorted_tables:  # parents (runs) before children
            if run_column not in table.c:
                continue
            rows = [
                dict(r._mapping)
                for r in conn.execute(table.select().where(table.c[run_column] == template_id))
            ]
            if not rows:
                continue
            pk = list(table.primary_key.columns)
            drop = pk[0].name if len(pk) == 1 and pk[0].name != run_column else None
            out = []
            for i, (spec, run_id) in enumerate(zip(specs, new_ids, strict=True)):
                for row in rows:
                    out.append(
                        _clone_row(
                            row,
                            drop,
                            run_column,
                            template_id,
                            template_name,
                            run_id,
                            spec.name,
                            i + 1,
                            values[spec.name],
                        )
                    )
            for start in range(0, len(out), 20_000):
                conn.execute(table.insert(), out[start : start + 20_000])
    engine.dispose()
    return new_ids


def _clone_row(
    row: dict[str, Any],
    drop: str | None,
    run_column: str,
    template_id: str,
    template_name: str,
    run_id: str,
    name: str,
    offset: int,
    values: dict[str, Any],
) -> dict[str, Any]:
    new = {}
    for column, value in row.items():
        if column == drop:  # a surrogate key (e.g. metrics.id): let the database number it
            continue
        if isinstance(value, str):
            value = name if value == template_name else value.replace(template_id, run_id)
        new[column] = value
    new[run_column] = run_id
    if "key" in new and "value" in new and new["key"] in values:
        wanted = values[new["key"]]
        new["value"] = str(wanted) if isinstance(row["value"], str) else wanted
    for column in ("start_time", "end_time"):  # distinct times, as real runs have
        if isinstance(new.get(column), int):
            new[column] += offset
    return new
