"""Ratios, verdicts, cross-checks and the rich tables of the tracking benchmark."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def finish(results: dict[str, Any], heron_only: bool) -> list[str]:
    """Add ratios, verdicts and cross-checks; return the problems that void the comparison."""
    problems = []
    for key, row in results["workloads"].items():
        mlflow = row.get("mlflow")
        row["ratio"] = row["heron"]["throughput"] / mlflow["throughput"] if mlflow else None
        row["met"] = (
            None if row["ratio"] is None or row["target"] is None else row["ratio"] >= row["target"]
        )
        if mlflow and "digest" in mlflow and mlflow["digest"] != row["heron"]["digest"]:
            problems.append(f"({key}) Heron and MLflow returned different runs or order")
    results["checks"] = {"same_results_both_sides": None if heron_only else not problems}
    return problems


def fmt_rate(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if value >= 100 else f"{value:,.1f} {unit}"


def fmt_side(key: str, result: dict[str, Any] | None) -> str:
    if result is None:
        return "[dim]-[/]"
    if key == "d1":
        return f"{result['latency_ms']:,.1f} ms"
    if key == "d2":
        return f"{result['median_s']:,.2f} s ({fmt_rate(result['throughput'], 'runs/s')})"
    return fmt_rate(result["throughput"], result["unit"])


def render(results: dict[str, Any], console: Console) -> None:
    versions = results["versions"]
    title = "Tracking: Heron {} vs MLflow {}".format(
        versions["heron"].get("heron"), versions.get("mlflow", {}).get("mlflow", "(skipped)")
    )
    table = Table(
        title=title,
        caption="ratio = MLflow time / Heron time for the same work "
        "(higher is better for Heron); medians of repeats"
        + (
            "\n[yellow]--quick: sizes too small for the ratios to mean anything[/]"
            if results.get("quick")
            else ""
        ),
    )
    for name, justify in (
        ("workload", "left"),
        ("Heron", "right"),
        ("MLflow", "right"),
        ("MLflow/Heron", "right"),
        ("target", "right"),
        ("", "center"),
    ):
        table.add_column(name, justify=justify)
    for key, row in results["workloads"].items():
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:,.1f}x"
        target = "info" if row["target"] is None else f">= {row['target']:g}x"
        verdict = {True: "[green]met[/]", False: "[red]missed[/]", None: ""}[row["met"]]
        table.add_row(
            row["title"],
            fmt_side(key, row["heron"]),
            fmt_side(key, row.get("mlflow")),
            ratio,
            target,
            verdict,
        )
    console.print(table)
    if not results.get("memory"):  # no search workload was run (--only)
        return
    memory = Table(title="Heron memory during a full paginated scan (fresh process each)")
    for name in (
        "runs",
        "page size",
        "time",
        "peak RSS growth",
        "anon RSS growth",
        "Python heap peak",
    ):
        memory.add_column(name, justify="right")
    for m in results["memory"]:
        anon = "-" if m["anon_growth_mib"] is None else f"{m['anon_growth_mib']:.1f} MiB"
        memory.add_row(
            f"{m['runs']:,}",
            f"{m['page_size']:,}",
            f"{m['seconds']:.2f} s",
            f"{m['rss_growth_mib']:.1f} MiB",
            anon,
            f"{m['python_peak_mib']:.1f} MiB",
        )
    console.print(memory)
