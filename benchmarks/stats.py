"""Figures of the bench: samples of one variant at one injected latency, median and p95."""

from __future__ import annotations

import statistics
from typing import Any

from pydantic import BaseModel, Field


def p95(values: list[float]) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[18]


class Figure(BaseModel):
    """One measured figure: `samples` in `unit` (seconds per job unless said)."""

    variant: str
    latency_ms: int = 0
    unit: str = "s"
    samples: list[float] = Field(default_factory=list)
    note: str = ""
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def p95(self) -> float:
        return p95(self.samples) if self.samples else float("nan")

    def summary(self) -> dict[str, Any]:
        return {"variant": self.variant, "latency_ms": self.latency_ms, "unit": self.unit, "n": len(self.samples),
                "median": round(self.median, 4), "p95": round(self.p95, 4),
                "samples": [round(s, 4) for s in self.samples], "note": self.note, **self.extra}


class Results(BaseModel):
    """Every figure of one run, looked up by variant and latency."""

    figures: list[Figure] = Field(default_factory=list)
    machine: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    seconds: float = 0.0

    def add(self, fig: Figure) -> Figure:
        self.figures.append(fig)
        return fig

    def get(self, variant: str, latency_ms: int = 0) -> Figure | None:
        return next((f for f in self.figures if f.variant == variant and f.latency_ms == latency_ms), None)

    def median(self, variant: str, latency_ms: int = 0) -> float | None:
        f = self.get(variant, latency_ms)
        return f.median if f is not None and f.samples else None
