"""The supervision report as one self-contained HTML page.

No scripts, no fonts, no images from anywhere: the charts are SVG drawn here, the styles
are inline, and a Content-Security-Policy forbids every fetch, so the page opens the same
offline, in a browser or an archive. Every chart label carries the figure it shows
(`data-key`, `data-fen` or `data-bps`), and every figure links to its definition, which the
page lists at the end (from `ledger/report_definitions.json`).
"""

from __future__ import annotations

from html import escape
from typing import Any

from ledger.money import format_bps, format_date, format_fen, format_time

PALETTE = {
    "current": "#4c78a8",
    "overdue_1_30": "#f2cf5b",
    "overdue_31_90": "#f58518",
    "overdue_90_plus": "#e45756",
    "defaulted": "#8c2d2d",
    "fee": "#b279a2",
    "provision": "#9d755d",
    "interest": "#54a24b",
    "principal": "#4c78a8",
    "residual": "#bab0ac",
    "total": "#30475e",
    "bar": "#4c78a8",
}
HISTORY_SERIES = (
    ("current_fen", "current", "current"),
    ("overdue_1_30_fen", "overdue 1–30", "overdue_1_30"),
    ("overdue_31_90_fen", "overdue 31–90", "overdue_31_90"),
    ("overdue_90_plus_fen", "overdue 90+", "overdue_90_plus"),
    ("defaulted_fen", "defaulted", "defaulted"),
)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif;
       margin: 24px auto; max-width: 1280px; color: #1d2733; background: #fff; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
     border-bottom: 1px solid #d9dee4; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.meta { color: #5b6773; margin-bottom: 16px; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; }
.kpi { border: 1px solid #d9dee4; border-radius: 6px; padding: 8px 12px; }
.kpi .v { font-size: 20px; font-weight: 600; } .kpi .k { color: #5b6773; font-size: 12px; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
figure { margin: 0; border: 1px solid #d9dee4; border-radius: 6px; padding: 10px; }
figcaption { font-weight: 600; margin-bottom: 6px; }
svg text { font: 12px system-ui, sans-serif; fill: #1d2733; }
svg .axis { stroke: #9aa5b1; stroke-width: 1; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }
th, td { border-bottom: 1px solid #e6e9ed; padding: 4px 8px; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.alert { border-left: 4px solid #e45756; background: #fdf1f1; padding: 6px 10px; margin: 6px 0; }
.alert b { font-family: ui-monospace, monospace; }
.none { color: #5b6773; font-style: italic; }
dl.defs dt { font-family: ui-monospace, monospace; font-size: 12px; margin-top: 6px; }
dl.defs dd { margin: 0 0 0 16px; color: #394654; }
a.def { color: inherit; text-decoration: none; border-bottom: 1px dotted #9aa5b1; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _v(fig: Any) -> int:
    return int(fig["value"]) if isinstance(fig, dict) else int(fig)


def _pct(fig: dict[str, Any]) -> str:
    return "—" if fig.get("bps") is None else format_bps(int(fig["bps"]))


def _who(party: dict[str, Any] | None) -> str:
    if not party:
        return "—"
    return str(party.get("name") or party["address"][:10] + "…")


def _policy_value(name: str, value: int) -> str:
    """A policy parameter as people read it: `24.00%`, `90 days`."""
    if name.endswith("_bps"):
        return format_bps(value)
    if name.endswith("_days"):
        return f"{value} days"
    return str(value)


def _def(key: str, text: str) -> str:
    return f'<a class="def" href="#def-{_e(key)}" title="{_e(key)}">{text}</a>'


class Svg:
    """A tiny SVG builder: rectangles, lines and labelled text, nothing else."""

    def __init__(self, chart: str, width: int, height: int, title: str) -> None:
        self.chart = chart
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" data-chart="{_e(chart)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{_e(title)}">'
        ]

    def rect(self, x: float, y: float, w: float, h: float, color: str, tip: str = "") -> None:
        title = f"<title>{_e(tip)}</title>" if tip else ""
        self.parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
            f'fill="{color}">{title}</rect>'
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, *, dashed: bool = False) -> None:
        dash = ' stroke-dasharray="3 3"' if dashed else ""
        self.parts.append(
            f'<line class="axis" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"{dash}/>'
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        anchor: str = "start",
        label: dict[str, Any] | None = None,
        weight: str = "normal",
    ) -> None:
        attrs = ""
        if label is not None:
            attrs = ' class="label"' + "".join(
                f' data-{k}="{_e(v)}"' for k, v in label.items() if v is not None
            )
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-weight="{weight}"'
            f"{attrs}>{_e(text)}</text>"
        )

    def svg(self) -> str:
        return "".join(self.parts) + "</svg>"


# --------------------------------------------------------------------------- charts


def waterfall_steps(w: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    """The cascade of a loan's receipts: (key, label, fen, colour), receipts first."""
    total = w["total"]
    steps = [
        ("receipts", "receipts", _v(total["amount_fen"]), PALETTE["total"]),
        ("fee", "tech fee", _v(total["fee_fen"]), PALETTE["fee"]),
        ("provision", "provision", _v(total["provision_fen"]), PALETTE["provision"]),
    ]
    for i, tranche in enumerate(w["tranches"]):
        who = f"t{i + 1} {_who(tranche['lender'])}"
        steps.append(
            (
                f"t{i + 1}-interest",
                f"{who} interest",
                _v(total["interest_fen"][i]),
                PALETTE["interest"],
            )
        )
        steps.append(
            (
                f"t{i + 1}-principal",
                f"{who} principal",
                _v(total["principal_fen"][i]),
                PALETTE["principal"],
            )
        )
    steps.append(("residual", "residual", _v(total["residual_fen"]), PALETTE["residual"]))
    return steps


# A part too small to see at the chart's scale (a fee beside the principal) is drawn this
# tall, so every step of the cascade shows; its label carries the exact amount.
MIN_BAR = 4.0


def waterfall_chart(w: dict[str, Any]) -> str:
    """A cascade: all receipts, then each part taken off in waterfall order (fee, provision,
    each tranche's interest and principal, the residual), down to zero, with connectors."""
    steps = waterfall_steps(w)
    total = steps[0][2]
    width, top, bottom, left = 1200, 24, 250, 16
    slot = (width - left * 2) / len(steps)
    svg = Svg("waterfall", width, bottom + 70, f"waterfall of loan #{w['loan']}")
    scale = (bottom - top) / total if total else 0
    level = total
    previous: tuple[float, float] | None = None  # (right edge, y of the running level)
    for i, (key, name, fen, color) in enumerate(steps):
        x = left + i * slot + slot * 0.15
        bar_w = slot * 0.7
        if i == 0:
            y0, y1 = 0, total
        else:
            y0, y1 = level - fen, level
            level -= fen
        y = bottom - y1 * scale
        h = (y1 - y0) * scale
        if fen and h < MIN_BAR:
            h = MIN_BAR
        svg.rect(x, y, bar_w, h, color, f"{name}: {format_fen(fen)}")
        if previous is not None:
            svg.line(previous[0], previous[1], x, previous[1], dashed=True)
        previous = (x + bar_w, bottom - (level if i else total) * scale)
        svg.text(
            x + bar_w / 2,
            y - 6,
            format_fen(fen),
            anchor="middle",
            label={"key": key, "fen": fen},
        )
        for j, word in enumerate(name.split(" ", 1) if " " in name else [name]):
            svg.text(x + bar_w / 2, bottom + 18 + 14 * j, word, anchor="middle")
    svg.line(left, bottom, width - left, bottom)
    return svg.svg()


def history_chart(history: dict[str, Any]) -> str:
    points = history["points"]
    width, top, bottom, left = 1200, 28, 260, 16
    slot = (width - left * 2) / max(len(points), 1)
    totals = [sum(_v(p[k]) for k, _, _ in HISTORY_SERIES) for p in points]
    peak = max(totals, default=0)
    scale = (bottom - top) / peak if peak else 0.0
    svg = Svg("history", width, bottom + 80, "book by status over time")
    for i, (p, total) in enumerate(zip(points, totals, strict=True)):
        x = left + i * slot + slot * 0.15
        bar_w = slot * 0.7
        y = float(bottom)
        for key, name, color in HISTORY_SERIES:
            fen = _v(p[key])
            h = fen * scale
            y -= h
            if fen:
                svg.rect(x, y, bar_w, h, PALETTE[color], f"{name}: {format_fen(fen)}")
        svg.text(
            x + bar_w / 2,
            bottom - total * scale - 6,
            format_fen(total),
            anchor="middle",
            label={"key": f"point-{i}", "fen": total, "at": p["at"]},
        )
        svg.text(x + bar_w / 2, bottom + 16, format_time(p["at"])[:10], anchor="middle")
    svg.line(left, bottom, width - left, bottom)
    x = left
    for _, name, color in HISTORY_SERIES:
        svg.rect(x, bottom + 34, 12, 12, PALETTE[color])
        svg.text(x + 16, bottom + 44, name)
        x += 150
    return svg.svg()


def buckets_chart(book: dict[str, Any]) -> str:
    buckets = book["overdue"]
    width, top, bottom = 580, 30, 220
    peak = max((_v(b["outstanding_fen"]) for b in buckets), default=0)
    scale = (bottom - top) / peak if peak else 0
    slot = (width - 40) / len(buckets)
    colors = (PALETTE["overdue_1_30"], PALETTE["overdue_31_90"], PALETTE["overdue_90_plus"])
    svg = Svg("overdue", width, bottom + 40, "overdue buckets")
    for i, (b, color) in enumerate(zip(buckets, colors, strict=True)):
        fen, count = _v(b["outstanding_fen"]), _v(b["count"])
        x = 20 + i * slot + slot * 0.2
        h = fen * scale
        svg.rect(x, bottom - h, slot * 0.6, h, color, f"{b['bucket']} days: {format_fen(fen)}")
        svg.text(
            x + slot * 0.3,
            bottom - h - 6,
            f"{format_fen(fen)} ({count} loan{'s' if count != 1 else ''})",
            anchor="middle",
            label={"key": b["bucket"], "fen": fen, "count": count},
        )
        svg.text(x + slot * 0.3, bottom + 18, f"{b['bucket']} days", anchor="middle")
    svg.line(20, bottom, width - 20, bottom)
    return svg.svg()


def share_chart(chart: str, title: str, rows: list[tuple[str, int, dict[str, Any]]]) -> str:
    """Horizontal bars of shares: (name, fen, ratio figure) per row."""
    width, row_h, label_w = 580, 26, 130
    svg = Svg(chart, width, max(1, len(rows)) * row_h + 12, title)
    if not rows:
        svg.text(10, 18, "nothing outstanding")
    for i, (name, fen, ratio) in enumerate(rows):
        y = 6 + i * row_h
        bps = ratio.get("bps") or 0
        bar = (width - label_w - 230) * bps / 10_000
        svg.text(4, y + 15, name)
        svg.rect(label_w, y + 3, bar, row_h - 8, PALETTE["bar"], f"{name}: {format_bps(bps)}")
        svg.text(
            label_w + bar + 6,
            y + 15,
            f"{format_fen(fen)} · {_pct(ratio)}",
            label={"key": name, "fen": fen, "bps": ratio.get("bps")},
        )
    return svg.svg()


# --------------------------------------------------------------------------- page


def _table(columns: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(
        f'<th class="{"n" if i in numeric else ""}">{c}</th>' for i, c in enumerate(columns)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"n" if i in numeric else ""}">{c}</td>' for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kpi(key: str, title: str, value: str) -> str:
    return (
        f'<div class="kpi"><div class="v">{_e(value)}</div>'
        f'<div class="k">{_def(key, _e(title))}</div></div>'
    )


def _loans_table(loans: list[dict[str, Any]]) -> str:
    """Open loans, worst first: days past due, and the collateral against the outstanding."""
    head = "<h3>Open loans, worst first</h3>"
    if not loans:
        return head + '<p class="none">no open loan</p>'
    rows = []
    for x in loans:
        cover = x["collateral_cover"]
        thin = cover.get("bps") is not None and int(cover["bps"]) < 10_000
        rows.append(
            [
                f"#{x['id']}",
                _e(x["status"]),
                _e(_who(x["borrower"])),
                format_fen(_v(x["principal_fen"])),
                format_fen(_v(x["outstanding_fen"])),
                format_time(x["maturity_at"])[:10] if x["maturity_at"] else "—",
                str(_v(x["days_past_due"])),
                format_fen(_v(x["collateral_fen"])),
                f"<b>{_pct(cover)}</b>" if thin else _pct(cover),
            ]
        )
    return head + _table(
        [
            "loan",
            "status",
            "borrower",
            _def("loans.principal_fen", "principal"),
            _def("loans.outstanding_fen", "outstanding"),
            "maturity",
            _def("loans.days_past_due", "days past due"),
            _def("loans.collateral_fen", "collateral value"),
            _def("loans.collateral_cover", "collateral ÷ outstanding"),
        ],
        rows,
        {3, 4, 6, 7, 8},
    )


def _cover_html(cover: dict[str, Any]) -> str:
    """The cover providers' claims (DESIGN §6.2): owed, paid, unpaid, paid back, breached."""
    parts = ["<h3>Cover layers 分险: claims on their providers</h3>"]
    if not cover["claims"]:
        return parts[0] + "<p>No cover claim: no loan with cover layers has defaulted.</p>"
    money = ("owed_fen", "paid_fen", "unpaid_fen", "reimbursed_fen")
    titles = ("owed", "paid", "unpaid", "paid back")
    parts.append(
        _table(
            [
                "provider",
                _def("cover.providers.claim_count", "claims"),
                *(_def(f"cover.providers.{k}", t) for k, t in zip(money, titles, strict=True)),
                _def("cover.providers.breached_count", "breached"),
                _def("cover.providers.breached_unpaid_fen", "unpaid on breached"),
            ],
            [
                [
                    _e(_who(p["provider"])),
                    str(_v(p["claim_count"])),
                    *(format_fen(_v(p[k])) for k in money),
                    str(_v(p["breached_count"])),
                    format_fen(_v(p["breached_unpaid_fen"])),
                ]
                for p in cover["providers"]
            ]
            + [
                [
                    "all",
                    "",
                    *(_def(f"cover.{k}", format_fen(_v(cover[k]))) for k in money),
                    _def("cover.breached_count", str(_v(cover["breached_count"]))),
                    _def("cover.breached_unpaid_fen", format_fen(_v(cover["breached_unpaid_fen"]))),
                ]
            ],
            {1, 2, 3, 4, 5, 6, 7},
        )
    )
    parts.append(
        _table(
            [
                "loan",
                "layer",
                "kind",
                "provider",
                *(_def(f"cover.claims.{k}", t) for k, t in zip(money, titles, strict=True)),
                "due",
                "state",
            ],
            [
                [
                    f"#{c['loan']}",
                    str(c["layer"]),
                    _e(c["kind"]),
                    _e(_who(c["provider"])),
                    *(format_fen(_v(c[k])) for k in money),
                    _e(format_date(int(c["due_at"]))),
                    _e(c["status"])
                    + (
                        f" {_e(format_date(int(c['breached_at'])))}"
                        if c["breached_at"] is not None
                        else ""
                    ),
                ]
                for c in cover["claims"]
            ],
            {4, 5, 6, 7},
        )
    )
    return "".join(parts)


def _scope_html(s: dict[str, Any], *, ledger: bool) -> str:
    book, conc, pricing, rec = s["loan_book"], s["concentration"], s["pricing"], s["receivables"]
    kpis = [
        _kpi(
            "loan_book.outstanding_fen",
            "principal outstanding",
            format_fen(_v(book["outstanding_fen"])),
        ),
        _kpi("loan_book.count", "loans", str(_v(book["count"]))),
        _kpi("loan_book.npl_ratio", "NPL ratio 不良率", _pct(book["npl_ratio"])),
        _kpi("loan_book.npl_fen", "non-performing", format_fen(_v(book["npl_fen"]))),
        _kpi(
            "loan_book.loss_after_cover_fen",
            "loss after provision cover",
            format_fen(_v(book["loss_after_cover_fen"])),
        ),
        _kpi("pricing.average_rate", "weighted-average rate", _pct(pricing["average_rate"])),
    ]
    if ledger:
        pool = s["pool"]
        kpis += [
            _kpi("pool.balance_fen", "provision pool", format_fen(_v(pool["balance_fen"]))),
            _kpi(
                "pool.coverage_ratio", "provision coverage 拨备覆盖率", _pct(pool["coverage_ratio"])
            ),
        ]
    else:
        kpis.append(
            _kpi(
                "concentration.share_of_ledger_book",
                "share of the ledger's book",
                _pct(conc["share_of_ledger_book"]),
            )
        )
    parts = [f'<div class="kpis">{"".join(kpis)}</div>']
    parts.append("<h3>Loan book by status</h3>")
    parts.append(
        _table(
            [
                "status",
                _def("loan_book.by_status.count", "loans"),
                _def("loan_book.by_status.principal_fen", "principal"),
                _def("loan_book.by_status.outstanding_fen", "outstanding"),
            ],
            [
                [
                    _e(r["status"]),
                    str(_v(r["count"])),
                    format_fen(_v(r["principal_fen"])),
                    format_fen(_v(r["outstanding_fen"])),
                ]
                for r in book["by_status"]
                if _v(r["count"])
            ],
            {1, 2, 3},
        )
    )
    parts.append(_loans_table(s["loans"]))
    if ledger:
        pool = s["pool"]
        parts.append("<h3>Provision pool</h3>")
        parts.append(
            _table(
                ["", "amount"],
                [
                    [
                        _def("pool.provisions_fen", "inflow: receipt provisions"),
                        format_fen(_v(pool["provisions_fen"])),
                    ],
                    [
                        _def("pool.contributions_fen", "inflow: contributions"),
                        format_fen(_v(pool["contributions_fen"])),
                    ],
                ]
                + [
                    [f"&nbsp;&nbsp;{_e(_who(c['member']))}", format_fen(_v(c["amount_fen"]))]
                    for c in pool["contributions"]
                ]
                + [
                    [
                        _def("pool.cover_paid_fen", "cover paid"),
                        format_fen(_v(pool["cover_paid_fen"])),
                    ],
                    [
                        _def("pool.cover_reimbursed_fen", "cover paid back"),
                        format_fen(_v(pool["cover_reimbursed_fen"])),
                    ],
                    [_def("pool.balance_fen", "balance"), format_fen(_v(pool["balance_fen"]))],
                ],
                {1},
            )
        )
        parts.append(_cover_html(s["cover"]))
    parts.append("<h3>Concentration</h3>")
    borrower_cols = [
        "borrower",
        _def("concentration.borrowers.exposure_fen", "exposure"),
        _def("concentration.borrowers.share_of_book", "share of book"),
    ]
    if not ledger:
        borrower_cols += [
            _def("concentration.borrowers.share_of_net_assets", "of net assets"),
            _def("concentration.borrowers.limit_used", "limit used"),
        ]
    parts.append(
        _table(
            borrower_cols,
            [
                [
                    _e(_who(b["borrower"])),
                    format_fen(_v(b["exposure_fen"])),
                    _pct(b["share_of_book"]),
                ]
                + ([_pct(b["share_of_net_assets"]), _pct(b["limit_used"])] if not ledger else [])
                for b in conc["borrowers"]
            ],
            {1, 2, 3, 4},
        )
    )
    parts.append(
        _table(
            [
                "core enterprise (debtor)",
                _def("concentration.debtors.exposure_fen", "exposure"),
                _def("concentration.debtors.share_of_book", "share of book"),
                _def("concentration.debtors.receivables_outstanding_fen", "receivables owed"),
            ],
            [
                [
                    _e(_who(d["debtor"])),
                    format_fen(_v(d["exposure_fen"])),
                    _pct(d["share_of_book"]),
                    format_fen(_v(d["receivables_outstanding_fen"])),
                ]
                for d in conc["debtors"]
            ],
            {1, 2, 3},
        )
    )
    if ledger:
        parts.append(
            _table(
                [
                    "lender",
                    _def("concentration.funding.funded_fen", "funded"),
                    _def("concentration.funding.share_of_funded", "funding share 出资比例"),
                    _def("concentration.funding.outstanding_fen", "outstanding"),
                    _def("concentration.funding.share_of_book", "share of book"),
                    _def("concentration.funding.net_assets_fen", "net assets"),
                ],
                [
                    [
                        _e(_who(f["lender"])),
                        format_fen(_v(f["funded_fen"])),
                        _pct(f["share_of_funded"]),
                        format_fen(_v(f["outstanding_fen"])),
                        _pct(f["share_of_book"]),
                        format_fen(_v(f["net_assets_fen"])),
                    ]
                    for f in conc["funding"]
                ],
                {1, 2, 3, 4, 5},
            )
        )
    parts.append("<h3>Pricing: local price index by tenor</h3>")
    parts.append(
        _table(
            [
                "tenor",
                _def("pricing.tenors.count", "loans"),
                _def("pricing.tenors.principal_fen", "principal"),
                _def("pricing.tenors.average_rate", "weighted-average rate"),
            ],
            [
                [
                    _e(t["tenor"]),
                    str(_v(t["count"])),
                    format_fen(_v(t["principal_fen"])),
                    _pct(t["average_rate"]),
                ]
                for t in pricing["tenors"]
            ],
            {1, 2, 3},
        )
    )
    paid = (
        [
            [f"fee to {_e(_who(f['party']))}", format_fen(_v(f["fee_fen"]))]
            for f in pricing["fees_by_tech_partner"]
        ]
        + [
            [f"interest to {_e(_who(f['party']))}", format_fen(_v(f["interest_fen"]))]
            for f in pricing["interest_by_lender"]
        ]
        + [
            [f"interest from {_e(_who(f['party']))}", format_fen(_v(f["interest_fen"]))]
            for f in pricing["interest_by_borrower"]
        ]
    )
    parts.append(_table(["paid, by party", "amount"], paid, {1}))
    parts.append("<h3>Receivables</h3>")
    parts.append(
        _table(
            ["", "value"],
            [
                [
                    _def("receivables.issued_fen", f"issued ({_v(rec['issued_count'])})"),
                    format_fen(_v(rec["issued_fen"])),
                ],
                [
                    _def(
                        "receivables.pending_fen",
                        f"pending: issued, not yet accepted ({_v(rec['pending_count'])})",
                    ),
                    format_fen(_v(rec["pending_fen"])),
                ],
                [
                    _def(
                        "receivables.outstanding_fen",
                        f"outstanding ({_v(rec['outstanding_count'])})",
                    ),
                    format_fen(_v(rec["outstanding_fen"])),
                ],
                [
                    _def("receivables.paid_on_time_fen", "paid on time"),
                    format_fen(_v(rec["paid_on_time_fen"])),
                ],
                [
                    _def("receivables.paid_late_fen", "paid late"),
                    format_fen(_v(rec["paid_late_fen"])),
                ],
                [
                    _def("receivables.overdue_fen", f"overdue ({_v(rec['overdue_count'])})"),
                    format_fen(_v(rec["overdue_fen"])),
                ],
                [
                    _def("receivables.max_tier", "split depth: tiers reached"),
                    str(_v(rec["max_tier"])),
                ],
            ],
            {1},
        )
    )
    parts.append(
        _table(
            [
                "debtor",
                _def("receivables.by_debtor.issued_fen", "issued"),
                _def("receivables.by_debtor.paid_on_time_fen", "paid on time"),
                _def("receivables.by_debtor.paid_late_fen", "paid late"),
                _def("receivables.by_debtor.overdue_fen", "overdue"),
                _def("receivables.by_debtor.not_due_fen", "not yet due"),
            ],
            [
                [
                    _e(_who(d["debtor"])),
                    format_fen(_v(d["issued_fen"])),
                    format_fen(_v(d["paid_on_time_fen"])),
                    format_fen(_v(d["paid_late_fen"])),
                    format_fen(_v(d["overdue_fen"])),
                    format_fen(_v(d["not_due_fen"])),
                ]
                for d in rec["by_debtor"]
            ],
            {1, 2, 3, 4, 5},
        )
    )
    return "".join(parts)


def render(doc: dict[str, Any], definitions: dict[str, Any]) -> str:
    """The page for a report document (`ledger.supervision.figures.document`)."""
    lender = doc.get("lender")
    if lender:
        scope = doc["lenders"][0]
        heading = f"Lender {_who(lender)}"
    else:
        scope = doc["ledger"]
        heading = "Whole ledger"
    book, conc = scope["loan_book"], scope["concentration"]
    w = doc.get("waterfall")
    body: list[str] = [
        f"<h1>链贷 liandai — supervision report 穿透式监管 · {_e(heading)}</h1>",
        f'<div class="meta">as of {_e(doc["as_of"])} · block {doc["block"]} · network '
        f"{_e(doc['network'])}"
        + (" · provisional: the chain has no block at this time yet" if doc["provisional"] else "")
        + " · computed from chain events through the local index</div>",
    ]
    alerts = doc["alerts"]
    body.append(f"<h2>Early warnings 风控链 ({len(alerts)})</h2>")
    if alerts:
        body += [
            f'<div class="alert" data-rule="{_e(a["rule"])}">'
            f"<b>{_def('alert-' + a['rule'], _e(a['rule']))}</b> {_e(a['message'])}</div>"
            for a in alerts
        ]
    else:
        body.append('<p class="none">no alert</p>')
    body.append("<h2>Charts</h2>")
    if w is not None:
        body.append(
            f"<figure><figcaption>Waterfall of loan #{w['loan']} ({_e(w['status'])}, "
            f"{len(w['receipts'])} receipt(s)): where the receipts went</figcaption>"
            f"{waterfall_chart(w)}</figure>"
        )
    else:
        body.append('<p class="none">no loan with receipts to chart</p>')
    if "history" in scope:
        body.append(
            "<figure><figcaption>Book by status over time (principal outstanding, "
            f"every {_v(scope['history']['step_days'])} days)</figcaption>"
            f"{history_chart(scope['history'])}</figure>"
        )
    body.append('<div class="grid">')
    body.append(
        "<figure><figcaption>Overdue buckets (days past maturity)</figcaption>"
        f"{buckets_chart(book)}</figure>"
    )
    borrowers = [
        (_who(b["borrower"]), _v(b["exposure_fen"]), b["share_of_book"]) for b in conc["borrowers"]
    ]
    body.append(
        "<figure><figcaption>Concentration: top borrowers, share of the book</figcaption>"
        f"{share_chart('borrowers', 'top borrowers', borrowers)}</figure>"
    )
    debtors = [
        (_who(d["debtor"]), _v(d["exposure_fen"]), d["share_of_book"]) for d in conc["debtors"]
    ]
    body.append(
        "<figure><figcaption>Concentration: core enterprises (debtors), share of the book"
        f"</figcaption>{share_chart('debtors', 'top debtors', debtors)}</figure>"
    )
    if not lender:
        funding = [
            (_who(f["lender"]), _v(f["funded_fen"]), f["share_of_funded"]) for f in conc["funding"]
        ]
        body.append(
            "<figure><figcaption>Joint-loan funding shares by lender</figcaption>"
            f"{share_chart('funding', 'funding shares', funding)}</figure>"
        )
    body.append("</div>")
    if w is not None and w["receipts"]:
        cols = ["date", "source", "receipt", "fee", "provision"]
        for i, t in enumerate(w["tranches"]):
            cols += [f"t{i + 1} {_e(_who(t['lender']))} interest", f"t{i + 1} principal"]
        cols.append("residual")
        rows = []
        for r in w["receipts"]:
            row = [
                format_time(r["at"])[:10],
                _e(r["source"]),
                format_fen(_v(r["amount_fen"])),
                format_fen(_v(r["fee_fen"])),
                format_fen(_v(r["provision_fen"])),
            ]
            for i in range(len(w["tranches"])):
                row += [format_fen(_v(r["interest_fen"][i])), format_fen(_v(r["principal_fen"][i]))]
            row.append(format_fen(_v(r["residual_fen"])))
            rows.append(row)
        body.append(f"<h3>Receipts of loan #{w['loan']}</h3>")
        body.append(_table(cols, rows, set(range(2, len(cols)))))
    body.append(f"<h2>{_e(heading)}</h2>")
    body.append(_scope_html(scope, ledger=not lender))
    if not lender:
        sup = scope["supervision"]
        body.append("<h3>Supervision: policy in force and regulator actions</h3>")
        body.append(
            _table(
                ["policy parameter", "value"],
                [
                    [_def(f"supervision.policy.{k}", _e(k)), _policy_value(k, _v(v))]
                    for k, v in sup["policy"].items()
                ],
                {1},
            )
        )
        if sup["policy_changes"]:
            body.append(
                _table(
                    ["changed", "parameter", "old", "new", "by"],
                    [
                        [
                            format_time(c["at"]),
                            _e(c["name"]),
                            _policy_value(c["name"], _v(c["old"])),
                            _policy_value(c["name"], _v(c["new"])),
                            _e(_who(c["by"])),
                        ]
                        for c in sup["policy_changes"]
                    ],
                    {2, 3},
                )
            )
        if sup["suspended"]:
            body.append(
                _table(
                    ["suspended member", "since", "by"],
                    [
                        [_e(_who(x["member"])), format_time(x["since_at"]), _e(_who(x["by"]))]
                        for x in sup["suspended"]
                    ],
                )
            )
        for section in doc["lenders"]:
            body.append(f"<h2>Lender {_e(_who(section['lender']))}</h2>")
            body.append(_scope_html(section, ledger=False))
    body.append("<h2>Definitions</h2>")
    body.append(f"<p>{_e(definitions['about'])}</p>")
    body.append(
        "<dl class='defs'>"
        + "".join(
            f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in definitions["conventions"].items()
        )
        + "</dl>"
    )
    body.append(
        "<dl class='defs'>"
        + "".join(
            f'<dt id="def-{_e(k)}">{_e(k)} — {_e(d["title"])} [{_e(d["unit"])}]</dt>'
            f"<dd>{_e(d['definition'])}</dd>"
            for k, d in definitions["figures"].items()
        )
        + "".join(
            f'<dt id="def-alert-{_e(k)}">alert {_e(k)} — {_e(d["title"])}</dt>'
            f"<dd>{_e(d['definition'])}</dd>"
            for k, d in definitions["alerts"].items()
        )
        + "</dl>"
    )
    title = f"liandai supervision report — {heading} — as of {doc['as_of']}"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )
