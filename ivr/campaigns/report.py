"""``ivr campaign report``: gather a campaign's attempts and calls, write HTML + PNG + CSV.

Files in the output folder: ``report.html`` (links the PNGs), ``funnel.png``,
``ratings.png``, ``escalations.png``, ``faq_topics.png``, ``latency.png``, ``summary.csv``
(metric,value: the headline numbers, then ``escalation_reason:<code>``, ``outcome:<code>``,
``faq_topic:<name>`` rows) and ``targets.csv`` (one row per customer, phone never included).
CSV cells that a spreadsheet would run as a formula are written as text (``ivr.core.csvsafe``).
"""

from __future__ import annotations

import csv
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ivr.campaigns.admin import Progress, campaign_view, get
from ivr.campaigns.charts import write_charts
from ivr.campaigns.context import CampaignContext
from ivr.campaigns.metrics import CampaignMetrics, compute, rating_of, reaching_attempts
from ivr.campaigns.model import Attempt, Campaign, Target
from ivr.core.csvsafe import csv_cell, csv_row
from ivr.customers.model import FollowUpStatus
from ivr.store.records import CallRecord, TurnRecord


@dataclass
class ReportData:
    campaign: Campaign
    targets: list[Target]
    attempts: list[Attempt]
    calls: dict[str, CallRecord]
    turns: dict[str, list[TurnRecord]]
    followups_open: int

    def metrics(self) -> CampaignMetrics:
        return compute(self.targets, self.attempts, self.calls, self.turns, self.followups_open)


def _none(_: int) -> None:
    return None


async def collect(ctx: CampaignContext, campaign_id: str,
                  progress: Progress = _none) -> ReportData:
    """Read everything the report needs; ``progress(1)`` after each call read."""
    campaign = await get(ctx, campaign_id)
    targets = await ctx.store.list_targets(campaign_id)
    attempts = await ctx.store.list_attempts(campaign_id)
    calls: dict[str, CallRecord] = {}
    turns: dict[str, list[TurnRecord]] = {}
    open_followups = 0
    for attempt in attempts:
        sid = attempt.call_sid
        if sid and ctx.calls is not None and sid not in calls:
            call = await ctx.calls.get_call(sid)
            if call is not None:
                calls[sid] = call
                turns[sid] = await ctx.calls.get_turns(sid)
            open_followups += len(await ctx.customers.list_followups(
                FollowUpStatus.OPEN, limit=500, call_sid=sid))
        progress(1)
    return ReportData(campaign, targets, attempts, calls, turns, open_followups)


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def summary_rows(m: CampaignMetrics) -> list[tuple[str, str]]:
    rows = [(k, _fmt(v)) for k, v in m.summary().items()]
    rows += [(f"escalation_reason:{k}", str(v)) for k, v in sorted(m.escalation_reasons.items())]
    rows += [(f"outcome:{k}", str(v)) for k, v in sorted(m.outcomes.items())]
    rows += [(f"faq_topic:{k}", str(v)) for k, v in sorted(m.faq_topics.items())]
    rows += [(f"target_state:{k}", str(v)) for k, v in sorted(m.target_states.items())]
    return rows


def target_rows(data: ReportData) -> list[dict[str, str]]:
    reaching = reaching_attempts(data.attempts)
    rows = []
    for t in data.targets:
        attempt = reaching.get(t.customer_id)
        call = data.calls.get(attempt.call_sid or "") if attempt else None
        rows.append({
            "customer_id": t.customer_id, "source": t.source, "state": t.state.value,
            "attempts": str(t.attempts), "reason": t.reason or "",
            "outcome": (call.outcome.value if call and call.outcome else t.last_outcome) or "",
            "rating": _fmt(rating_of(call.details)) if call else "",
            "escalation_reason": (call.escalation_reason or "") if call else "",
            "fallback_channel": t.fallback_channel or "",
            "call_sid": (attempt.call_sid or "") if attempt else "",
        })
    return rows


def _table(rows: Sequence[tuple[str, str]], head: tuple[str, str]) -> str:
    body = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
                   for a, b in rows)
    return (f"<table><thead><tr><th>{html.escape(head[0])}</th><th>{html.escape(head[1])}"
            f"</th></tr></thead><tbody>{body}</tbody></table>")


def render_html(data: ReportData, m: CampaignMetrics, charts: dict[str, Path]) -> str:
    view = campaign_view(data.campaign)
    info = [("id", view["id"]), ("name", view["name"]), ("purpose", view["purpose"]),
            ("state", view["state"]), ("started", view["started_at"] or ""),
            ("finished", view["finished_at"] or "")]
    reasons = [(k, str(v)) for k, v in m.escalation_reasons.most_common()]
    images = "".join(f'<figure><img src="{html.escape(p.name)}" alt="{html.escape(name)}">'
                     f"</figure>" for name, p in charts.items())
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Campaign report: {html.escape(data.campaign.name)}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:60em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:.25em .6em;text-align:left}figure{margin:1em 0}</style></head><body>"
        f"<h1>Campaign report: {html.escape(data.campaign.name)}</h1>"
        f"{_table(info, ('campaign', ''))}<h2>Summary</h2>"
        f"{_table([(k, _fmt(v)) for k, v in m.summary().items()], ('metric', 'value'))}"
        f"<h2>Escalation reasons</h2>{_table(reasons, ('reason', 'calls'))}"
        f"<h2>Call outcomes (reached customers)</h2>"
        f"{_table([(k, str(v)) for k, v in m.outcomes.most_common()], ('outcome', 'calls'))}"
        f"<h2>Charts</h2>{images}"
        "<p>Numbers come from the call store joined to this campaign's dial attempts; "
        "targets.csv lists every customer (no phone numbers).</p></body></html>\n")


def write_report(data: ReportData, out: Path) -> CampaignMetrics:
    out.mkdir(parents=True, exist_ok=True)
    m = data.metrics()
    charts = write_charts(m, out)
    with (out / "summary.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["metric", "value"])
        writer.writerows(csv_row(row) for row in summary_rows(m))
    rows = target_rows(data)
    with (out / "targets.csv").open("w", newline="", encoding="utf-8") as fh:
        fields = list(rows[0]) if rows else ["customer_id"]
        dict_writer = csv.DictWriter(fh, fieldnames=fields)
        dict_writer.writeheader()
        dict_writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    (out / "report.html").write_text(render_html(data, m, charts), encoding="utf-8")
    return m
