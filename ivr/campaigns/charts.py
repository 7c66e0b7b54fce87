"""PNG charts for the campaign report (matplotlib, Agg canvas, no pyplot global state)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ivr.campaigns.metrics import CampaignMetrics

COLOR = "#2f6db5"


def _figure(title: str) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(7.0, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(title)
    return fig, ax


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def _empty(ax: Axes) -> None:
    ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def bar_chart(path: Path, title: str, items: Sequence[tuple[str, float]], *,
              horizontal: bool = False, xlabel: str = "") -> Path:
    fig, ax = _figure(title)
    if not items or not any(v for _, v in items):
        _empty(ax)
        return _save(fig, path)
    labels = [label for label, _ in items]
    values = [value for _, value in items]
    if horizontal:
        ax.barh(labels[::-1], values[::-1], color=COLOR)
        ax.set_xlabel(xlabel or "count")
    else:
        ax.bar(labels, values, color=COLOR)
        ax.set_ylabel(xlabel or "count")
    return _save(fig, path)


def histogram(path: Path, title: str, values: Sequence[float], xlabel: str) -> Path:
    fig, ax = _figure(title)
    if not values:
        _empty(ax)
        return _save(fig, path)
    bins = min(30, max(5, len(values) // 3))
    ax.hist(list(values), bins=bins, color=COLOR)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("turns")
    return _save(fig, path)


def write_charts(m: CampaignMetrics, out: Path) -> dict[str, Path]:
    """The five report charts; returns name → file."""
    ratings = [(str(r), float(m.ratings.count(r))) for r in range(1, 6)]
    return {
        "funnel": bar_chart(out / "funnel.png", "Outcome funnel",
                            [(k, float(v)) for k, v in m.funnel()], horizontal=True,
                            xlabel="customers"),
        "ratings": bar_chart(out / "ratings.png", "Satisfaction rating (1-5)", ratings),
        "escalations": bar_chart(out / "escalations.png", "Escalation reasons",
                                 [(k, float(v)) for k, v in m.escalation_reasons.most_common()],
                                 horizontal=True),
        "faq_topics": bar_chart(out / "faq_topics.png", "FAQ topics",
                                [(k, float(v)) for k, v in m.faq_topics.most_common(15)],
                                horizontal=True),
        "latency": histogram(out / "latency.png", "Turn latency", m.latencies_ms,
                             "caller end of speech -> first bot audio (ms)"),
    }
