"""Ratios, verdicts, cross-checks and the rich tables of the server benchmark."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console
from rich.table import Table

from bench_report import fmt_rate

MODES = {"log_metric": ("(f) log_metric", "calls/s"), "log_batch": ("(f) log_batch", "points/s")}
SCALES = 1.2  # the best level must beat one writer by this much (unless one writer
SATURATED = 0.9  # already keeps this share of the machine's CPUs busy)...
NO_COLLAPSE = 0.8  # ...and the most writers keep this share of the best level


def finish(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    """Add ratios, verdicts and cross-checks; return the problems that void the comparison."""
    problems = []
    for backend, out in results["backends"].items():
        for key, row in out["workloads"].items():
            heron, mlflow = row["heron"], row.get("mlflow")
            row["ratio"] = heron["throughput"] / mlflow["throughput"] if mlflow else None
            row["met"] = None if row["ratio"] is None else row["ratio"] >= row["target"]
            if mlflow and "digest" in heron and heron["digest"] != mlflow["digest"]:
                problems.append(f"{backend} ({key}): Heron and MLflow returned different data")
        if out["writers"]:  # skipped with --only
            out["scaling"] = {mode: scaling(out["writers"], mode) for mode in MODES}
    results["checks"] = {"same_results_both_sides": None if args.heron_only else not problems}
    return problems


def scaling(writers: dict[str, Any], mode: str) -> dict[str, Any]:
    """Per side: throughput at each level over one writer's; the verdict is Heron's."""
    out: dict[str, Any] = {}
    for side, result in writers.items():
        levels = result[mode]
        ordered = sorted(levels, key=int)
        rates = [levels[n]["throughput"] for n in ordered]
        best = max(rates)
        one_cpu = levels[ordered[0]].get("cpu_busy") or 0.0
        out[side] = {
            "vs_one": {n: levels[n]["throughput"] / rates[0] for n in levels},
            "scales": best >= SCALES * rates[0] or one_cpu >= SATURATED,
            "saturated_at_one": one_cpu >= SATURATED,
            "no_collapse": rates[-1] >= NO_COLLAPSE * best,
        }
    heron = out["heron"]
    out["met"] = heron["scales"] and heron["no_collapse"] if len(heron["vs_one"]) > 1 else None
    return out


def fmt_side(key: str, result: dict[str, Any] | None) -> str:
    if result is None:
        return "[dim]-[/]"
    if key == "d":
        return f"{result['latency_ms']:,.1f} ms"
    if key in ("e", "e+"):
        extra = f", {result['returned']:,} pts" if "returned" in result else ""
        return f"{result['median_s']:,.2f} s{extra}"
    return fmt_rate(result["throughput"], result["unit"])


def verdict(met: bool | None) -> str:
    return {True: "[green]met[/]", False: "[red]missed[/]", None: ""}[met]


def render(results: dict[str, Any], console: Console) -> None:
    versions = results["versions"]
    names = "Heron {} vs MLflow {}".format(
        versions["heron"].get("heron"), versions.get("mlflow", {}).get("mlflow", "(skipped)")
    )
    quick = "\n[yellow]--quick: sizes too small for the ratios to mean anything[/]"
    for backend, out in results["backends"].items():
        table = Table(
            title=f"Server on {backend}: {names}, {results['server_workers']} workers each",
            caption="ratio = MLflow time / Heron time for the same work (higher is better for "
            "Heron); medians of repeats. The chart row compares Heron's server-side "
            "downsampling with MLflow's full fetch: MLflow cannot downsample on the server"
            + (quick if results.get("quick") else ""),
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
        for key, row in out["workloads"].items():
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:,.1f}x"
            table.add_row(
                row["title"],
                fmt_side(key, row["heron"]),
                fmt_side(key, row.get("mlflow")),
                ratio,
                f">= {row['target']:g}x",
                verdict(row["met"]),
            )
        console.print(table)
        if out["writers"]:
            console.print(writers_table(backend, out))
    if "artifacts" in results:
        console.print(artifacts_table(results["artifacts"]))


def writers_table(backend: str, out: dict[str, Any]) -> Table:
    table = Table(
        title=f"(f) concurrent writer processes on {backend}: total throughput",
        caption="each writer logs to a run of its own for a fixed time; 'x1' = over one "
        "writer; CPU = CPU time of Heron's writers and server over all the machine's CPUs. "
        f"Target: Heron scales (best level >= {SCALES:g}x one writer, unless one writer "
        f"already keeps the CPUs >= {SATURATED:.0%} busy) and does not collapse (the most "
        f"writers >= {NO_COLLAPSE:.0%} of the best level)",
    )
    for name in ("workload", "writers", "Heron", "x1", "CPU", "MLflow", "x1 ", "MLflow/Heron"):
        table.add_column(name, justify="left" if name == "workload" else "right")
    table.add_column("")
    for mode, (title, unit) in MODES.items():
        heron = out["writers"]["heron"][mode]
        mlflow = out["writers"].get("mlflow", {}).get(mode)
        scale = out["scaling"][mode]
        for i, n in enumerate(sorted(heron, key=int)):
            h = heron[n]
            m = mlflow[n] if mlflow else None
            errors = h["errors"] + (m["errors"] if m else 0)
            last = i == len(heron) - 1
            table.add_row(
                title if i == 0 else "",
                n,
                fmt_rate(h["throughput"], unit),
                f"{scale['heron']['vs_one'][n]:.2f}x",
                "-" if h.get("cpu_busy") is None else f"{h['cpu_busy']:.0%}",
                fmt_rate(m["throughput"], unit) if m else "[dim]-[/]",
                f"{scale['mlflow']['vs_one'][n]:.2f}x" if m else "",
                f"{h['throughput'] / m['throughput']:,.1f}x" if m else "-",
                (verdict(scale["met"]) if last else "")
                + (f" [red]{errors} errors[/]" if errors else ""),
            )
    return table


def artifacts_table(art: dict[str, Any]) -> Table:
    table = Table(
        title=f"Heron server memory while {art['bytes'] / 2**30:.2f} GiB of artifacts stream "
        f"through it ({art['backend']} store, {art['processes']} processes)",
        caption="RSS of the server's whole process tree (supervisor + workers); peak from "
        "the kernel's per-process high-water marks, reset before the transfer",
    )
    for name in ("upload", "download", "RSS before", "RSS peak", "RSS after", "peak growth"):
        table.add_column(name, justify="right")
    table.add_row(
        f"{art['upload_s']:.1f} s ({art['upload_mib_s']:,.0f} MiB/s)",
        f"{art['download_s']:.1f} s ({art['download_mib_s']:,.0f} MiB/s)",
        f"{art['before_mib']:,.0f} MiB",
        f"{art['peak_mib']:,.0f} MiB",
        f"{art['after_mib']:,.0f} MiB",
        f"{art['peak_mib'] - art['before_mib']:,.0f} MiB",
    )
    return table
