"""The bench's results for people and machines: a rich table, a JSON file, a PNG plot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from benchmarks.stats import Results
from benchmarks.targets import Verdict

_ORDER = ["floor", "sign_in_http", "naive", "cold", "warm", "warm_rows_0", "warm_rows_20"]


def _sort_key(variant: str) -> tuple[int, int]:
    if variant in _ORDER:
        return (_ORDER.index(variant), 0)
    kind, _, n = variant.partition("_")
    return (len(_ORDER) + (0 if kind == "throughput" else 1), int(n) if n.isdigit() else 0)


def figures_table(r: Results) -> Table:
    t = Table(title="jobber-robot bench: medians and p95 (ratios count: the machine is shared)")
    t.add_column("variant")
    t.add_column("latency", justify="right")
    t.add_column("n", justify="right")
    t.add_column("median", justify="right")
    t.add_column("p95", justify="right")
    t.add_column("unit")
    for f in sorted(r.figures, key=lambda f: (_sort_key(f.variant), f.latency_ms)):
        t.add_row(f.variant, f"{f.latency_ms} ms", str(len(f.samples)), f"{f.median:.3f}" if f.unit == "s"
                  else f"{f.median:.1f}", f"{f.p95:.3f}" if f.unit == "s" else f"{f.p95:.1f}", f.unit)
    return t


def targets_table(verdicts: list[Verdict]) -> Table:
    t = Table(title="targets (issue 15)")
    t.add_column("target")
    t.add_column("figure")
    t.add_column("result")
    for v in verdicts:
        mark = "[green]met[/green]" if v.met else ("[dim]not measured[/dim]" if v.met is None else "[red]missed[/red]")
        t.add_row(v.target, v.figure, mark)
    return t


def markdown(r: Results, verdicts: list[Verdict]) -> str:
    """The tables as Markdown (for the README)."""
    lines = ["| variant | latency | n | median | p95 | unit |", "|---|---:|---:|---:|---:|---|"]
    for f in sorted(r.figures, key=lambda f: (_sort_key(f.variant), f.latency_ms)):
        fmt = "{:.3f}" if f.unit == "s" else "{:.1f}"
        lines.append(f"| {f.variant} | {f.latency_ms} ms | {len(f.samples)} | {fmt.format(f.median)} | "
                     f"{fmt.format(f.p95)} | {f.unit} |")
    lines += ["", "| target | figure | result |", "|---|---|---|"]
    for v in verdicts:
        lines.append(f"| {v.target} | {v.figure} | {'met' if v.met else ('not measured' if v.met is None else 'MISSED')} |")
    return "\n".join(lines)


def to_json(r: Results, verdicts: list[Verdict]) -> dict[str, Any]:
    return {"seconds": round(r.seconds, 1), "machine": r.machine, "settings": r.settings,
            "figures": [f.summary() for f in r.figures], "targets": [v.model_dump() for v in verdicts]}


def write_json(path: Path, r: Results, verdicts: list[Verdict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(r, verdicts), indent=2) + "\n", encoding="utf-8")


def plot(path: Path, r: Results) -> None:
    """Job time by variant (median bars, p95 whiskers, at 0 and 100 ms) and throughput by merchants."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    variants = [v for v in _ORDER if v != "sign_in_http" and any(f.variant == v for f in r.figures)]
    width = 0.38
    for i, lat in enumerate((0, 100)):
        meds, errs, xs = [], [], []
        for j, v in enumerate(variants):
            f = r.get(v, lat)
            if f is None or not f.samples:
                continue
            xs.append(j + (i - 0.5) * width)
            meds.append(f.median)
            errs.append(max(f.p95 - f.median, 0))
        ax1.bar(xs, meds, width, yerr=errs, capsize=3, label=f"{lat} ms latency")
    ax1.set_xticks(range(len(variants)), [v.replace("warm_rows_", "rows ") for v in variants], rotation=20)
    ax1.set_ylabel("seconds per job (median, p95 whisker)")
    ax1.set_title("job time by variant")
    ax1.legend(loc="upper left")
    for lat in (0, 100):
        pts = sorted((f.extra["merchants"], f.median) for f in r.figures
                     if f.variant.startswith("throughput_") and f.latency_ms == lat)
        if pts:
            ax2.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{lat} ms latency")
    ax2.set_xlabel("merchants queued at once (one worker)")
    ax2.xaxis.get_major_locator().set_params(integer=True)
    ax2.set_ylim(bottom=0)
    ax2.set_ylabel("jobs per minute")
    ax2.set_title("throughput by merchants")
    ax2.legend()
    cpus = r.machine.get("cpus_usable")
    load = [x for x in ((r.machine.get("load_before") or [None])[0], (r.machine.get("load_after") or [None])[0])
            if x is not None]
    busy = f", load average {min(load):.0f}-{max(load):.0f}" if load else ""
    fig.suptitle(f"jobber-robot bench on {cpus} shared cores{busy}" + (" (quick run)" if r.settings.get("quick") else ""))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def print_all(console: Console, r: Results, verdicts: list[Verdict]) -> None:
    console.print(figures_table(r))
    console.print(targets_table(verdicts))
    m = r.machine
    console.print(f"[dim]{m.get('cpus_usable')} usable cores, {m.get('memory_gb')} GB, load average before "
                  f"{m.get('load_before')} after {m.get('load_after')}; trace={r.settings.get('trace')}; "
                  f"took {r.seconds:.0f} s[/dim]")
    if loaded(r):
        console.print("[yellow]the machine was busy with other work (load average above its cores): absolute "
                      "figures are inflated and noisy; compare the ratios[/yellow]")


def loaded(r: Results) -> bool:
    cores = r.machine.get("cpus_usable") or 1
    return any((r.machine.get(k) or [0])[0] > cores for k in ("load_before", "load_after"))
