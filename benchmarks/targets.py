"""The issue's targets, each judged met or missed against its figure (medians; never a failure)."""

from __future__ import annotations

import os

from pydantic import BaseModel

from benchmarks.stats import Results
from benchmarks.world import ROWS


class Verdict(BaseModel):
    target: str
    figure: str
    met: bool | None          # None: not measured in this run
    limit: str = ""           # what limits it (filled in by the README when missed)


def _fmt(x: float | None, unit: str = "s") -> str:
    return "n/a" if x is None else (f"{x:.2f} {unit}" if unit != "%" else f"{x:.0%}")


def judge(r: Results, sleeps_found: int | None = None) -> list[Verdict]:
    out: list[Verdict] = []
    floor100, warm100, warm0 = r.median("floor", 100), r.median("warm", 100), r.median("warm", 0)
    naive0, naive100 = r.median("naive", 0), r.median("naive", 100)
    cold0, sign_in = r.median("cold", 0), r.median("sign_in_http", 0)

    def add(target: str, figure: str, met: bool | None) -> None:
        out.append(Verdict(target=target, figure=figure, met=met))

    add("100 ms latency: warm job within 2x the HTTP floor",
        f"warm {_fmt(warm100)} vs floor {_fmt(floor100)} = {warm100 / floor100:.1f}x" if warm100 and floor100 else "n/a",
        None if not (warm100 and floor100) else warm100 <= 2 * floor100)
    own = warm0 / warm100 if warm0 and warm100 else None
    add("100 ms latency: the robot's own time at most 30 % of the job",
        f"own time (warm at 0 ms) {_fmt(warm0)} of {_fmt(warm100)} = {_fmt(own, '%')}" if own is not None else "n/a",
        None if own is None else own <= 0.30)
    add("no latency: warm job under 0.5 s", f"warm {_fmt(warm0)}", None if warm0 is None else warm0 < 0.5)
    add("naive robot at least 4x slower than a warm job",
        (f"naive {_fmt(naive0)} / warm {_fmt(warm0)} = {naive0 / warm0:.1f}x; at 100 ms "
         f"{(naive100 or 0) / (warm100 or 1):.1f}x") if naive0 and warm0 else "n/a",
        None if not (naive0 and warm0) else naive0 >= 4 * warm0)
    add("cold job within 2x a warm job plus the sign-in's own server time",
        f"cold {_fmt(cold0)} vs 2 x {_fmt(warm0)} + {_fmt(sign_in)}" if cold0 and warm0 and sign_in is not None
        else "n/a",
        None if not (cold0 and warm0 and sign_in is not None) else cold0 <= 2 * warm0 + sign_in)
    r0, rn = r.median("warm_rows_0", 0), r.median(f"warm_rows_{ROWS}", 0)
    add(f"warm job independent of the payment rows on the invoice (0 vs {ROWS} rows, within 10 %)",
        f"{_fmt(r0)} vs {_fmt(rn)} (+{(rn - r0) / r0:.0%})" if r0 and rn else "n/a",
        None if not (r0 and rn) else rn <= 1.10 * r0)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    t1 = r.median("throughput_1", 0)
    k = max((int(f.variant.split("_")[1]) for f in r.figures if f.variant.startswith("throughput_")
             and f.latency_ms == 0 and int(f.variant.split("_")[1]) <= cores), default=None)
    tk = r.median(f"throughput_{k}", 0) if k else None
    add(f"throughput near-linear up to the cores ({cores}): {k} merchants at least 0.8 x {k} x 1 merchant",
        f"{_fmt(t1, 'jobs/min')} → {_fmt(tk, 'jobs/min')} ({tk / t1:.2f}x)" if t1 and tk and k else "n/a",
        None if not (t1 and tk and k and k > 1) else tk >= 0.8 * k * t1)
    mems = sorted((f.extra["contexts"], f.samples[0]) for f in r.figures if f.variant.startswith("memory_"))
    per = (mems[-1][1] - mems[0][1]) / (mems[-1][0] - mems[0][0]) if len(mems) >= 2 else None
    add("memory per extra merchant context under 40 MB PSS",
        f"{_fmt(per, 'MB')} per context ({mems[0][0]} → {mems[-1][0]} contexts)" if per is not None else "n/a",
        None if per is None else per < 40)
    add("no fixed sleeps on any robot path", "n/a" if sleeps_found is None else f"{sleeps_found} unmarked",
        None if sleeps_found is None else sleeps_found == 0)
    return out
