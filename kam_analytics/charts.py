"""Plotly figures from report DataFrames (no data access here). Plotly draws a subset of HTML
in every label, tick, legend and hover: text from files reaches a figure only escaped
(safe_text.html), through `_text_shown_as_text` on the DataFrame a figure is drawn from."""

from __future__ import annotations

import functools

import pandas as pd
import plotly.graph_objects as go

from . import formatting, safe_text

PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#0ea5e9", "#84cc16",
           "#ec4899", "#64748b", "#14b8a6")
# Figures follow the app's theme (light or dark): st.plotly_chart's theme="streamlit" gives the
# background, fonts and grid, so no figure sets a background, a grid colour or a text colour;
# neutral marks use these mid-tone greys, legible on white and on near-black alike.
INK = "#64748b"
FAINT = "#94a3b8"


def _text_shown_as_text(func):
    """The figure drawn from a copy of its DataFrame (first argument) whose text cells and
    attrs are escaped for plotly's HTML, so a name such as '<a href=...>' is drawn as written."""
    @functools.wraps(func)
    def draw(df: pd.DataFrame, *args, **kwargs) -> go.Figure:
        return func(safe_text.frame(df), *args, **kwargs)
    return draw


def _layout(fig: go.Figure, title: str, x_title: str, height: int = 420) -> go.Figure:
    fig.update_layout(
        title={"text": safe_text.html(title), "x": 0, "xanchor": "left", "font": {"size": 16}},
        height=height, margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1},
        xaxis_title=x_title, hovermode="closest",
    )
    fig.update_xaxes(zeroline=False, separatethousands=True)
    fig.update_yaxes(autorange="reversed")
    return fig


@_text_shown_as_text
def stage_durations(df: pd.DataFrame, dim: str | None = None, min_sample: int = 5) -> go.Figure:
    """Median days per stage as bars, with p75 and p90 as markers on the same line, one
    bar per dimension value when split. Stages read top to bottom in stage order. Rows
    below the minimum sample are drawn faint and say "too few to say" on hover."""
    fig = go.Figure()
    groups = [(None, df)] if not dim else list(df.groupby(dim, dropna=False, sort=False))
    top = df[["median_days", "p75_days", "p90_days"]].max().max()
    gap = float(top) * 0.02 if top == top and top else 0.0      # the label starts clear of the marker
    for i, (value, g) in enumerate(groups):
        color = PALETTE[i % len(PALETTE)]
        name = "all deals" if value is None and not dim else (formatting.DASH if formatting.is_missing(value) else str(value))
        enough = g["deals"] >= min_sample
        hover = [
            (f"<b>{s}</b> — {name}<br>median {formatting.days(m)} d · p75 {formatting.days(p75)} d · "
             f"p90 {formatting.days(p90)} d<br>mean {formatting.days(mean)} d · {formatting.number(n)} deals")
            if ok else f"<b>{s}</b> — {name}<br>too few to say ({formatting.number(n)} deals)"
            for s, m, p75, p90, mean, n, ok in zip(g["stage"], g["median_days"], g["p75_days"], g["p90_days"],
                                                  g["mean_days"], g["deals"], enough)
        ]
        fig.add_trace(go.Bar(
            y=g["stage"], x=g["median_days"], orientation="h", name=f"{name}: median",
            marker={"color": color, "opacity": [1.0 if ok else 0.25 for ok in enough]},
            hovertext=hover, hoverinfo="text", legendgroup=name, offsetgroup=str(i),
        ))
        for col, symbol, label in (("p75_days", "line-ns-open", "p75"), ("p90_days", "diamond-open", "p90")):
            fig.add_trace(go.Scatter(
                y=g["stage"], x=g[col].where(enough), mode="markers", name=f"{name}: {label}",
                marker={"symbol": symbol, "size": 14 if label == "p75" else 10, "color": color,
                        "line": {"width": 2, "color": color}},
                hovertext=hover, hoverinfo="text", legendgroup=name, showlegend=(i == 0),
                offsetgroup=str(i), orientation="h",      # grouped along y, on its own bar
            ))
        # the median's value beyond the row's outermost mark, where no marker covers it
        fig.add_trace(go.Scatter(
            y=g["stage"], x=[x + gap for x in label_positions(g, enough)], mode="text", textposition="middle right",
            text=[f"median {formatting.days(m)} d" if ok else "too few" for m, ok in zip(g["median_days"], enough)],
            textfont={"size": 11}, hoverinfo="skip", showlegend=False, legendgroup=name, offsetgroup=str(i),
            orientation="h", cliponaxis=False))
    fig.update_layout(barmode="group", scattermode="group")
    if top == top and top:  # not NaN: leave room for the outermost marker and its label
        fig.update_xaxes(range=[0, float(top) * 1.18])
    title = "Median days in each stage (markers: p75 ┃ and p90 ◇)"
    return _layout(fig, title, "days", height=max(320, 70 * len(df["stage"].unique()) * max(1, min(len(groups), 4)) // 2 + 120))


def label_positions(g: pd.DataFrame, enough) -> list:
    """Where a row's value label starts: beyond the outermost of its median bar and its p75 and
    p90 markers (the markers only where the sample is large enough), so no marker covers it."""
    out = []
    for m, p75, p90, ok in zip(g["median_days"], g["p75_days"], g["p90_days"], enough):
        values = [v for v in ((m, p75, p90) if ok else (m,)) if not formatting.is_missing(v)]
        out.append(max(values) if values else 0)
    return out


@_text_shown_as_text
def in_progress(df: pd.DataFrame, dim: str | None = None) -> go.Figure:
    """Deals now in each stage and their median age (open visits, kept apart from the
    completed durations)."""
    data = df if not dim else df.groupby("stage", sort=False, as_index=False).agg(
        in_progress=("in_progress", "sum"))
    if not len(data) or not data["in_progress"].fillna(0).astype(float).any():
        return empty("No deal is in progress in these stages (no open visit).")
    fig = go.Figure(go.Bar(
        y=data["stage"], x=data["in_progress"], orientation="h", marker={"color": FAINT},
        text=[formatting.number(v) for v in data["in_progress"]], textposition="outside", cliponaxis=False,
        hovertext=[f"<b>{s}</b><br>{formatting.number(n)} deals in progress" +
                   (f"<br>median age {formatting.days(a)} d" if not dim else "")
                   for s, n, a in zip(data["stage"], data["in_progress"],
                                      data.get("in_progress_median_age_days", data["in_progress"]))],
        hoverinfo="text", name="in progress",
    ))
    return _layout(fig, "Deals in progress per stage (open visits)", "deals", height=max(260, 45 * len(data) + 110))


def empty(message: str, height: int = 160) -> go.Figure:
    """An empty state: the message in the middle of a figure without axes (never a chart of
    zeros)."""
    fig = go.Figure()
    fig.add_annotation(text=safe_text.html(message), x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 14})
    fig.update_layout(height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis={"visible": False}, yaxis={"visible": False})
    fig.layout.meta = {"empty": True}
    return fig


def _segment_name(value) -> str:
    return formatting.DASH if formatting.is_missing(value) else str(value)


@_text_shown_as_text
def funnel(df: pd.DataFrame, won_stage: str | None = None, title: str | None = None, color: str = PALETTE[0]) -> go.Figure:
    """Closed deals reaching each stage (conversion's `reached`), the won stage last; hover
    gives conversion to the next stage and the win rate from it. One segment per figure:
    overlaid funnels cannot be read, so a page puts two side by side."""
    stages = list(df["stage"])
    reached = [int(v) for v in df["reached"]]
    conv = list(df["conversion_to_next"])
    rates = list(df["win_rate_from_stage"])
    hover = [f"<b>{s}</b><br>{formatting.number(n)} closed deals reached it<br>"
             f"conversion to next {formatting.percent(c)}<br>win rate from here {formatting.percent(r)}"
             for s, n, c, r in zip(stages, reached, conv, rates)]
    if won_stage and reached:
        won_stage = safe_text.html(won_stage)
        won = round(reached[-1] * conv[-1]) if reached[-1] and conv[-1] == conv[-1] else 0
        stages.append(won_stage)
        reached.append(won)
        hover.append(f"<b>{won_stage}</b><br>{formatting.number(won)} deals won")
    fig = go.Figure(go.Funnel(
        y=stages, x=reached, hovertext=hover, hoverinfo="text",
        texttemplate="%{value:,} (%{percentInitial:.0%})", marker={"color": color},
        connector={"line": {"color": FAINT}},
    ))
    return _layout(fig, title or "Closed deals reaching each stage (percent of the first stage)", "deals",
                   height=max(320, 55 * (len(stages)) + 110))


@_text_shown_as_text
def stage_spread(df: pd.DataFrame, dim: str | None = None) -> go.Figure:
    """Box per stage from precomputed quantiles: whiskers p10-p90, box p25-p75, line at the
    median (completed visits only)."""
    fig = go.Figure()
    groups = [(None, df)] if not dim else list(df.groupby(dim, dropna=False, sort=False))
    for i, (value, g) in enumerate(groups):
        name = "all deals" if not dim else _segment_name(value)
        fig.add_trace(go.Box(
            y=g["stage"], orientation="h", name=name, q1=g["p25_days"], median=g["median_days"], q3=g["p75_days"],
            lowerfence=g["p10_days"], upperfence=g["p90_days"], marker={"color": PALETTE[i % len(PALETTE)]},
            hovertext=[f"<b>{s}</b> — {name}<br>median {formatting.days(m)} d · p25–p75 {formatting.days(a)}–"
                       f"{formatting.days(b)} d<br>p10–p90 {formatting.days(lo)}–{formatting.days(hi)} d · "
                       f"{formatting.number(n)} deals"
                       for s, m, a, b, lo, hi, n in zip(g["stage"], g["median_days"], g["p25_days"], g["p75_days"],
                                                        g["p10_days"], g["p90_days"], g["deals"])],
            hoverinfo="text",
        ))
    fig.update_layout(boxmode="group")
    return _layout(fig, "Completed days in each stage (box p25–p75, whiskers p10–p90)", "days",
                   height=max(320, 70 * len(df["stage"].unique()) * max(1, min(len(groups), 4)) // 2 + 120))


@_text_shown_as_text
def cycle(df: pd.DataFrame, dim: str | None = None) -> go.Figure:
    """Median sales-cycle days for won, lost and all closed deals, mean on hover."""
    fig = go.Figure()
    groups = [(None, df)] if not dim else list(df.groupby(dim, dropna=False, sort=False))
    for i, (value, g) in enumerate(groups):
        name = "all closed deals" if not dim else _segment_name(value)
        fig.add_trace(go.Bar(
            y=g["outcome"], x=g["median_days"], orientation="h", name=name,
            marker={"color": PALETTE[i % len(PALETTE)]},
            text=[f"{formatting.days(m)} d" for m in g["median_days"]], textposition="outside", cliponaxis=False,
            hovertext=[f"<b>{o}</b> — {name}<br>median {formatting.days(m)} d · mean {formatting.days(a)} d<br>"
                       f"{formatting.number(n)} deals" for o, m, a, n in zip(g["outcome"], g["median_days"],
                                                                           g["mean_days"], g["deals"])],
            hoverinfo="text",
        ))
    fig.update_layout(barmode="group")
    return _layout(fig, "Sales cycle: median days from created to closed", "days", height=max(260, 60 * 3 * max(1, len(groups)) // 2 + 120))


SIDE_COLORS = {"seller": PALETTE[0], "buyer": PALETTE[1], "joint": PALETTE[2]}


@_text_shown_as_text
def plan_timeline(df: pd.DataFrame) -> go.Figure:
    """A closing plan as a Gantt chart: one bar per step from the start of the stage it serves
    (the as-of for the current stage) to its due date, coloured by side, step 1 on top; lines
    mark the realistic close date and the owner's close date, a band the likely range."""
    a = df.attrs
    as_of = pd.Timestamp(a["as_of"])
    open_stages = [s for s in df["stage"].unique() if s != a.get("won_stage")]
    ends = df[df["stage"].isin(open_stages)].groupby("stage", sort=False)["cumulative_days"].max()
    starts = dict(zip(ends.index, [0.0, *ends.tolist()[:-1]]))
    fig = go.Figure()
    labels = [f"{n}. {s}" for n, s in zip(df["step_no"], df["step"])]
    for side, color in SIDE_COLORS.items():
        g = df[(df["side"] == side) & df["stage"].isin(open_stages)]
        if not len(g):
            continue
        begin = [as_of + pd.Timedelta(days=starts[s]) for s in g["stage"]]
        due = [pd.Timestamp(d) + pd.Timedelta(hours=12) for d in g["due_date"]]   # mid-day: a bar never has 0 width
        fig.add_trace(go.Bar(
            y=[labels[i] for i in g.index], base=begin,
            x=[(e - b).total_seconds() * 1000 for b, e in zip(begin, due)],
            orientation="h", name=side, marker={"color": color},
            hovertext=[f"<b>{st}</b><br>{stage} · {side} · {formatting.DASH if formatting.is_missing(o) else o}"
                       f"<br>due {formatting.when(d)} ({formatting.days(c)} days from the as-of)"
                       for st, stage, o, d, c in zip(g["step"], g["stage"], g["owner"], g["due_date"],
                                                     g["cumulative_days"])],
            hoverinfo="text",
        ))
    won = df[~df["stage"].isin(open_stages)]     # the won stage's steps: milestones on the close date
    if len(won):
        fig.add_trace(go.Scatter(
            y=[labels[i] for i in won.index], x=[pd.Timestamp(d) + pd.Timedelta(hours=12) for d in won["due_date"]],
            mode="markers", name="at closing", marker={"symbol": "diamond", "size": 14,
                                                       "color": [SIDE_COLORS.get(x, PALETTE[8]) for x in won["side"]]},
            hovertext=[f"<b>{st}</b><br>at closing · due {formatting.when(d)}" for st, d in zip(won["step"], won["due_date"])],
            hoverinfo="text"))
    lo, hi = pd.Timestamp(a["likely_close_from"]), pd.Timestamp(a["likely_close_to"])
    fig.add_vrect(x0=lo, x1=hi + pd.Timedelta(days=1), fillcolor=FAINT, opacity=0.2, line_width=0,
                  annotation_text="likely range", annotation_position="bottom left",
                  annotation_font={"size": 11})
    marks = [(d, color, dash, label) for d, color, dash, label in (
        (a["realistic_close_date"], PALETTE[4], "solid", "realistic close"),
        (a["owner_close_date"], PALETTE[3], "dash", "owner's close date")) if not formatting.is_missing(d)]
    for d, color, dash, _ in marks:
        x = pd.Timestamp(d) + pd.Timedelta(hours=12)
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line={"color": color, "dash": dash, "width": 2})
    dates = [as_of, hi, *[pd.Timestamp(d) for d in df["due_date"] if not formatting.is_missing(d)],
             *[pd.Timestamp(m[0]) for m in marks]]
    labels_at = close_labels(marks, min(dates) + (max(dates) - min(dates)) / 2)
    for (d, color, text, xanchor, row) in labels_at:
        fig.add_annotation(x=pd.Timestamp(d) + pd.Timedelta(hours=12), y=1, yref="paper", text=text, showarrow=False,
                           yanchor="bottom", xanchor=xanchor, yshift=2 + 17 * row, font={"color": color, "size": 12})
    _layout(fig, "", "", height=max(260, 80 + 30 * len(df)))
    fig.update_layout(barmode="overlay", margin={"l": 10, "r": 10, "t": 30 + 17 * len(labels_at), "b": 40},
                      legend={"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0,
                              "xanchor": "left", "x": 0})     # below the two-line date ticks
    # ticks that never collide: at most 7, the year on a second line
    fig.update_xaxes(type="date", tickformat="%d %b\n%Y", nticks=7, ticklabelmode="instant")
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    return fig


def close_labels(marks: list, middle) -> list[tuple]:
    """The plan timeline's close-date labels, each on its own line above the plot so that they
    never overlap, each reaching towards the middle of the time axis (`middle`) so that it stays
    inside the figure; the same date twice is one label. `marks`: (date, colour, dash, words);
    returns (date, colour, text, xanchor, row)."""
    if len(marks) == 2 and pd.Timestamp(marks[0][0]) == pd.Timestamp(marks[1][0]):
        marks = [(marks[0][0], marks[0][1], None, f"{marks[0][3]} = {marks[1][3]}")]
    return [(d, color, f"{words} {formatting.when(d)}", "right" if pd.Timestamp(d) > pd.Timestamp(middle) else "left",
             row) for row, (d, color, _, words) in enumerate(marks)]


WATERFALL_LABELS = {"start": "Start", "new": "New", "pulled_in": "Pulled in", "increased": "Increased",
                    "decreased": "Decreased", "pushed_out": "Pushed out", "won": "Won", "lost": "Lost", "end": "End"}
_WATERFALL_SIGN = {"new": 1, "pulled_in": 1, "increased": 1, "decreased": -1, "pushed_out": -1, "won": -1, "lost": -1}


def waterfall(df: pd.DataFrame, currency: str = "") -> go.Figure:
    """The pipeline waterfall (docs/metrics.md): start and end as totals, the seven moves between
    them as steps up (green) or down (red; won in blue, as a win is not a loss of pipeline)."""
    rows = {r["category"]: r for r in df.to_dict("records")}
    cats = list(WATERFALL_LABELS)
    measure = ["absolute" if c == "start" else "total" if c == "end" else "relative" for c in cats]
    y = [rows[c]["amount"] * _WATERFALL_SIGN.get(c, 1) if c != "end" else 0 for c in cats]
    text = [("−" if _WATERFALL_SIGN.get(c, 1) < 0 else "+" if c in _WATERFALL_SIGN else "")
            + formatting.number(rows[c]["amount"]) for c in cats]
    fig = go.Figure(go.Waterfall(
        x=[WATERFALL_LABELS[c] for c in cats], y=y, measure=measure, text=text, textposition="outside",
        cliponaxis=False, connector={"line": {"color": FAINT, "width": 1}},
        increasing={"marker": {"color": PALETTE[2]}}, decreasing={"marker": {"color": PALETTE[3]}},
        totals={"marker": {"color": PALETTE[8]}},
        hovertext=[f"<b>{WATERFALL_LABELS[c]}</b><br>{formatting.number(rows[c]['amount'])} {currency}<br>"
                   f"{formatting.number(rows[c]['deals'])} deals" for c in cats],
        hoverinfo="text",
    ))
    _layout(fig, "", "", height=440)
    fig.update_layout(showlegend=False, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    fig.update_yaxes(autorange=True, separatethousands=True, title=currency, rangemode="tozero")
    return fig


@_text_shown_as_text
def accuracy_history(df: pd.DataFrame, currency: str = "") -> go.Figure:
    """Forecast vs actual for past quarters: grouped bars of the commit, best-case, weighted
    forecasts and the owners' calls at each quarter's first day, the actual as a line."""
    fig = go.Figure()
    series = [("commit_forecast", "Commit", PALETTE[0]), ("best_case_forecast", "Best case", PALETTE[5]),
              ("weighted_forecast", "Weighted", PALETTE[4]), ("calls_commit", "Owners' commit calls", PALETTE[1])]
    for col, name, color in series:
        fig.add_trace(go.Bar(
            x=df["period"], y=df[col], name=name, marker={"color": color},
            hovertext=[f"<b>{p}</b> · {name}<br>{formatting.number(v)} {currency}<br>accuracy "
                       f"{formatting.percent(None if formatting.is_missing(v) or not a else v / a)}"
                       for p, v, a in zip(df["period"], df[col], df["actual"])],
            hoverinfo="text"))
    fig.add_trace(go.Scatter(
        x=df["period"], y=df["actual"], name="Actual won", mode="lines+markers",
        line={"color": INK, "width": 3}, marker={"size": 9},
        hovertext=[f"<b>{p}</b> · actual won<br>{formatting.number(v)} {currency}" for p, v in zip(df["period"], df["actual"])],
        hoverinfo="text"))
    _layout(fig, "", "", height=400)
    fig.update_layout(barmode="group", margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_yaxes(autorange=True, separatethousands=True, title=currency, rangemode="tozero")
    return fig


def pacing(df: pd.DataFrame, currency: str = "", p50: float | None = None) -> go.Figure:
    """The period's weeks (the pacing report): won so far, commit and weighted as lines against
    the quota and the typical pace of the past periods (quota × their median share, dashed, in a
    shaded band from quota × the lowest to quota × the highest share); the range's P50 at the
    as-of as one marker."""
    fig = go.Figure()
    x = list(df["week_start"])
    money = lambda v: f"{formatting.number(v)} {currency}"          # noqa: E731 - hover text only
    quota = df["quota"].iloc[0] if len(df) else None
    if not formatting.is_missing(quota) and df["typical_won_share"].notna().any():
        high, low = df["typical_won_share_high"] * quota, df["typical_won_share_low"] * quota
        fig.add_trace(go.Scatter(x=x, y=high, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(
            x=x, y=low, mode="lines", line={"width": 0}, fill="tonexty", fillcolor="rgba(16, 185, 129, 0.15)",
            name="Typical pace band", hovertext=[f"<b>{formatting.when(d)}</b> · typical pace band<br>{money(lo)} – "
                                                  f"{money(hi)}" for d, lo, hi in zip(x, low, high)],
            hoverinfo="text"))
        fig.add_trace(go.Scatter(
            x=x, y=df["typical_won_share"] * quota, mode="lines", name="Typical pace",
            line={"color": PALETTE[2], "dash": "dash"},
            hovertext=[f"<b>{formatting.when(d)}</b> · typical pace<br>{formatting.percent(s)} of the quota: "
                       f"{money(s * quota)}" for d, s in zip(x, df["typical_won_share"])], hoverinfo="text"))
    if not formatting.is_missing(quota):
        fig.add_trace(go.Scatter(x=x, y=[quota] * len(x), mode="lines", name="Quota",
                                 line={"color": PALETTE[3], "dash": "dot"},
                                 hovertext=[f"quota {money(quota)}"] * len(x), hoverinfo="text"))
    for col, name, color in (("won_so_far", "Won so far", INK), ("commit_forecast", "Commit", PALETTE[0]),
                             ("weighted_forecast", "Weighted", PALETTE[4])):
        fig.add_trace(go.Scatter(
            x=x, y=df[col], mode="lines+markers", name=name, line={"color": color, "width": 3 if col == "won_so_far"
                                                                   else 2},
            hovertext=[f"<b>{formatting.when(d)}</b> · {name.lower()}<br>{money(v)}" for d, v in zip(x, df[col])],
            hoverinfo="text"))
    if p50 is not None and len(x):
        fig.add_trace(go.Scatter(x=[x[-1]], y=[p50], mode="markers", name="Likely won (P50)",
                                 marker={"symbol": "diamond", "size": 12, "color": PALETTE[1]},
                                 hovertext=[f"<b>{formatting.when(x[-1])}</b> · likely won (P50)<br>{money(p50)}"],
                                 hoverinfo="text"))
    _layout(fig, "", "", height=400)
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_yaxes(autorange=True, separatethousands=True, title=currency, rangemode="tozero")
    return fig


@_text_shown_as_text
def pushes_by_owner(df: pd.DataFrame, top: int = 15) -> go.Figure:
    """Close-date pushes per owner (the most first), days pushed on hover."""
    g = df.head(top)
    fig = go.Figure(go.Bar(
        y=g["owner"], x=g["pushes"], orientation="h", marker={"color": PALETTE[3]},
        text=[formatting.number(v) for v in g["pushes"]], textposition="outside", cliponaxis=False,
        hovertext=[f"<b>{o}</b><br>{formatting.number(p)} pushes on {formatting.number(n)} of {formatting.number(d)} "
                   f"deals<br>{formatting.number(dp)} days pushed · {formatting.number(pi)} pull-ins"
                   for o, p, n, d, dp, pi in zip(g["owner"], g["pushes"], g["deals_pushed"], g["deals"],
                                                 g["days_pushed"], g["pull_ins"])],
        hoverinfo="text"))
    return _layout(fig, "", "pushes", height=max(240, 28 * len(g) + 80))


@_text_shown_as_text
def flag_counts(df: pd.DataFrame) -> go.Figure:
    """Open deals per risk flag (columns flag, label, deals), the most first."""
    g = df.sort_values("deals", ascending=False, kind="stable")   # the axis runs top-down
    fig = go.Figure(go.Bar(
        y=g["label"], x=g["deals"], orientation="h", marker={"color": PALETTE[3]},
        text=[formatting.number(v) for v in g["deals"]], textposition="outside", cliponaxis=False,
        hovertext=[f"<b>{lab}</b><br>{formatting.number(n)} deals" for lab, n in zip(g["label"], g["deals"])],
        hoverinfo="text"))
    return _layout(fig, "", "open deals with the flag", height=max(240, 28 * len(g) + 80))


def calibration(df: pd.DataFrame) -> go.Figure:
    """The back-test's reliability table (risk-backtest --calibration: decile, evaluations,
    predicted_win_rate, actual_win_rate, stage_win_rate) as a calibration chart: each tenth of
    the predicted win probability at (mean prediction, actual win rate), sized by its
    evaluations, the stage win rate alone beside it, against the diagonal of perfect calibration."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                             line={"color": FAINT, "dash": "dash"}, hoverinfo="skip"))
    size = df["evaluations"].astype(float)
    marker_size = 8 + 22 * (size / size.max()) ** 0.5 if len(df) else size
    fig.add_trace(go.Scatter(
        x=df["stage_win_rate"], y=df["actual_win_rate"], mode="markers", name="stage win rate alone",
        marker={"color": PALETTE[8], "symbol": "circle-open", "size": 10, "line": {"width": 2}},
        hovertext=[f"<b>{d}</b> predicted by the score<br>their stages' win rate {formatting.percent(s)} · actual "
                   f"{formatting.percent(a)}" for d, s, a in zip(df["decile"], df["stage_win_rate"],
                                                                    df["actual_win_rate"])],
        hoverinfo="text"))
    fig.add_trace(go.Scatter(
        x=df["predicted_win_rate"], y=df["actual_win_rate"], mode="lines+markers", name="risk score",
        line={"color": PALETTE[0]}, marker={"color": PALETTE[0], "size": marker_size},
        hovertext=[f"<b>{d}</b> predicted<br>predicted {formatting.percent(p)} · actual {formatting.percent(a)}<br>"
                   f"{formatting.number(n)} deal-quarters" for d, p, a, n in
                   zip(df["decile"], df["predicted_win_rate"], df["actual_win_rate"], df["evaluations"])],
        hoverinfo="text"))
    fig = _layout(fig, "", "predicted win probability", height=420)
    fig.update_xaxes(range=[0, 1], tickformat=".0%", separatethousands=False)
    fig.update_yaxes(autorange=False, range=[0, 1], tickformat=".0%", title="actual win rate")
    return fig


@_text_shown_as_text
def deal_timeline(history: pd.DataFrame) -> go.Figure:
    """One deal's close date (steps, left axis) and amount (right axis) over its history
    (forecasting.deal_history), pushes marked."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=history["changed_at"], y=history["close_date"], name="close date", mode="lines+markers",
                             line={"shape": "hv", "color": PALETTE[0]},
                             hovertext=[f"{formatting.when(t)}: close date {formatting.when(c)}"
                                        + (f" ({m}, {formatting.number(d)} days)" if isinstance(m, str) else "")
                                        for t, c, m, d in zip(history["changed_at"], history["close_date"],
                                                              history["close_date_move"], history["days_moved"])],
                             hoverinfo="text"))
    fig.add_trace(go.Scatter(x=history["changed_at"], y=history["amount"], name="amount", mode="lines+markers",
                             line={"shape": "hv", "color": PALETTE[1], "dash": "dot"}, yaxis="y2",
                             hovertext=[f"{formatting.when(t)}: amount {formatting.number(a)}"
                                        for t, a in zip(history["changed_at"], history["amount"])],
                             hoverinfo="text"))
    fig.update_layout(yaxis={"title": "close date"}, yaxis2={"title": "amount", "overlaying": "y", "side": "right",
                                                            "tickformat": ",.0f", "rangemode": "tozero"},
                      legend={"orientation": "h", "y": -0.2}, height=320, margin={"l": 10, "r": 10, "t": 10, "b": 10})
    return fig


@_text_shown_as_text
def win_rates(df: pd.DataFrame, label: str, title: str = "", min_sample: int = 5) -> go.Figure:
    """Win rate by count per row (one bar each, top-down as given) with its 95 % Wilson interval
    as error bars; rows with fewer closed deals than the minimum drawn faint."""
    names = [formatting.DASH if formatting.is_missing(v) else str(v) for v in df[label]]
    rate = df["win_rate"].astype(float)
    enough = (df["deals"] >= min_sample).tolist()
    fig = go.Figure(go.Bar(
        y=names, x=rate, orientation="h",
        marker={"color": [PALETTE[0] if ok else FAINT for ok in enough]},
        error_x={"type": "data", "symmetric": False, "color": INK, "thickness": 1.5, "width": 4,
                 "array": (df["win_rate_high"].astype(float) - rate).fillna(0).tolist(),
                 "arrayminus": (rate - df["win_rate_low"].astype(float)).fillna(0).tolist()},
        hovertext=[f"<b>{n}</b><br>win rate {formatting.percent(r)} ({formatting.number(w)} won, "
                   f"{formatting.number(lo_)} lost)<br>95% interval {formatting.percent(a)} to {formatting.percent(b)}"
                   + ("" if ok else "<br>too few to say")
                   for n, r, w, lo_, a, b, ok in zip(names, rate, df["won"], df["lost"], df["win_rate_low"],
                                                     df["win_rate_high"], enough)],
        hoverinfo="text"))
    # the figures beyond each whisker, where a narrow bar cannot hold them
    fig.add_trace(go.Scatter(
        y=names, x=(df["win_rate_high"].astype(float).fillna(rate) + 0.01).fillna(0.01), mode="text",
        text=[f"{formatting.percent(r, 0)} of {formatting.number(n)}" for r, n in zip(rate, df["deals"])],
        textposition="middle right", textfont={"size": 11}, hoverinfo="skip",
        showlegend=False))
    _layout(fig, title, "win rate (count), with its 95% interval", height=max(220, 34 * len(df) + 90))
    fig.update_layout(showlegend=False)
    fig.update_xaxes(range=[0, 1.15], tickformat=".0%", tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0])
    fig.update_yaxes(categoryorder="array", categoryarray=names)
    return fig


@_text_shown_as_text
def pareto(df: pd.DataFrame, label: str, value: str = "lost", title: str = "") -> go.Figure:
    """Bars of `value` per label, largest first, and the cumulative share as a line (right
    axis): the few reasons behind most losses."""
    g = df[df[value] > 0].sort_values(value, ascending=False, kind="stable")
    names = [formatting.DASH if formatting.is_missing(v) else str(v) for v in g[label]]
    total = g[value].sum()
    cumulative = (g[value].cumsum() / total).tolist() if total else []
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=g[value], name=value.replace("_", " "), marker={"color": PALETTE[3]},
                         text=[formatting.number(v) for v in g[value]], textposition="outside", cliponaxis=False,
                         hovertext=[f"<b>{n}</b><br>{formatting.number(v)} {value.replace('_', ' ')}"
                                    for n, v in zip(names, g[value])], hoverinfo="text"))
    fig.add_trace(go.Scatter(x=names, y=cumulative, name="cumulative share", yaxis="y2", mode="lines+markers",
                             line={"color": INK},
                             hovertext=[f"{n}: {formatting.percent(c)} of all so far" for n, c in zip(names, cumulative)],
                             hoverinfo="text"))
    fig.update_layout(title={"text": safe_text.html(title), "x": 0, "font": {"size": 16}}, height=380,
                      margin={"l": 10, "r": 10, "t": 50, "b": 10},
                      yaxis={"title": value.replace("_", " "), "separatethousands": True},
                      yaxis2={"overlaying": "y", "side": "right", "range": [0, 1.05], "tickformat": ".0%",
                              "title": "cumulative share"},
                      legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1})
    return fig


OUTCOME_COLORS = {"won": PALETTE[2], "lost": PALETTE[3]}


@_text_shown_as_text
def step_lateness(df: pd.DataFrame, metric: str, title: str = "") -> go.Figure:
    """One step-lateness measure per step (top-down in plan order), won and lost side by side."""
    steps = list(dict.fromkeys(df["step"]))
    fig = go.Figure()
    is_rate = metric.endswith("_rate")
    for outcome, color in OUTCOME_COLORS.items():
        g = df[df["outcome"] == outcome]
        if not len(g):
            continue
        fig.add_trace(go.Bar(
            y=g["step"], x=g[metric], orientation="h", name=outcome, marker={"color": color},
            hovertext=[f"<b>{s}</b> — {outcome}<br>{metric.replace('_', ' ')}: "
                       + (formatting.percent(v) if is_rate else formatting.days(v) + " days")
                       + f"<br>{formatting.number(n)} steps"
                       for s, v, n in zip(g["step"], g[metric], g["steps"])],
            hoverinfo="text"))
    _layout(fig, title, metric.replace("_", " ").replace("rate", "share"), height=max(260, 44 * len(steps) + 100))
    fig.update_layout(barmode="group")
    fig.update_yaxes(categoryorder="array", categoryarray=steps)
    if is_rate:
        fig.update_xaxes(range=[0, 1.02], tickformat=".0%")
    return fig


@_text_shown_as_text
def map_steps(steps: pd.DataFrame, as_of) -> go.Figure:
    """A mutual plan's steps over time, step 1 on top: a grey line from the original to the
    current due date (a moved date), the current due date coloured by side, completion as a
    green tick, overdue steps as a red cross at their due date; a line marks the as-of."""
    # "3. Step" unless the name carries its own number ("1. Recap …")
    labels = [s if s[:1].isdigit() else f"{n}. {s}" for n, s in zip(steps["step_no"], steps["step"])]
    fig = go.Figure()
    noon = pd.Timedelta(hours=12)
    for y, o, d in zip(labels, steps["original_due_date"], steps["due_date"]):
        if not formatting.is_missing(o) and not formatting.is_missing(d) and o != d:
            fig.add_trace(go.Scatter(x=[pd.Timestamp(o) + noon, pd.Timestamp(d) + noon], y=[y, y], mode="lines",
                                     line={"color": FAINT, "width": 3}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=[pd.Timestamp(o) + noon if not formatting.is_missing(o) else None for o in steps["original_due_date"]],
        y=labels, mode="markers", name="original due date",
        marker={"symbol": "circle-open", "size": 11, "color": INK, "line": {"width": 2}},
        hovertext=[f"{lab}<br>first due {formatting.when(o)}" for lab, o in zip(labels, steps["original_due_date"])],
        hoverinfo="text"))
    for side, color in SIDE_COLORS.items():
        m = (steps["side"] == side).to_numpy()
        if not m.any():
            continue
        g = steps[m]
        fig.add_trace(go.Scatter(
            x=[pd.Timestamp(d) + noon if not formatting.is_missing(d) else None for d in g["due_date"]],
            y=[labels[i] for i in range(len(labels)) if m[i]], mode="markers", name=f"due ({side})",
            marker={"symbol": "diamond", "size": 12, "color": color},
            hovertext=[f"<b>{s}</b><br>{side} · {formatting.DASH if formatting.is_missing(w) else w}<br>due "
                       f"{formatting.when(d)} (first {formatting.when(o)}) · {st or formatting.DASH}"
                       for s, w, d, o, st in zip(g["step"], g["owner"], g["due_date"], g["original_due_date"],
                                                 g["status"])],
            hoverinfo="text"))
    done = steps["completed_date"].notna().to_numpy()
    if done.any():
        fig.add_trace(go.Scatter(
            x=[pd.Timestamp(d) + noon for d in steps.loc[done, "completed_date"]],
            y=[labels[i] for i in range(len(labels)) if done[i]], mode="markers", name="completed",
            marker={"symbol": "star", "size": 13, "color": PALETTE[2]},
            hovertext=[f"completed {formatting.when(c)} ({formatting.number(d)} days "
                       + ("late" if d > 0 else "early" if d < 0 else "on the day") + ")"
                       for c, d in zip(steps.loc[done, "completed_date"], steps.loc[done, "late_days"].fillna(0))],
            hoverinfo="text"))
    late = steps["overdue"].notna().to_numpy()
    if late.any():
        fig.add_trace(go.Scatter(
            x=[pd.Timestamp(d) + noon for d in steps.loc[late, "due_date"]],
            y=[labels[i] for i in range(len(labels)) if late[i]], mode="markers", name="overdue",
            marker={"symbol": "x", "size": 14, "color": PALETTE[3], "line": {"width": 1}},
            hovertext=list(steps.loc[late, "overdue"]), hoverinfo="text"))
    x = pd.Timestamp(as_of)
    fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", line={"color": INK, "dash": "dot"})
    fig.add_annotation(x=x, y=1, yref="paper", text=f"as of {formatting.when(as_of)}", showarrow=False,
                       yanchor="bottom", font={"size": 11})
    _layout(fig, "", "", height=max(240, 70 + 34 * len(steps)))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 10}, height=max(280, 110 + 34 * len(steps)),
                      legend={"orientation": "h", "yanchor": "top", "y": -0.12 - 1.5 / max(4, len(steps)),
                              "xanchor": "left", "x": 0})
    fig.update_xaxes(type="date", tickformat="%d %b %Y", nticks=8)
    fig.update_yaxes(categoryorder="array", categoryarray=labels)
    return fig


RELATIONSHIP_COLORS = {1: "#dc2626", 2: "#f97316", 3: "#eab308", 4: "#22c55e", 5: "#15803d"}


def axis_cap(values: pd.Series, share: float = 0.05, factor: float = 3.0) -> float | None:
    """Where a bubble chart's axis stops when a few values would squash the rest: the largest
    values (at most `share` of them, at least one) that are each more than `factor` times the
    next one down are left beyond the axis, which stops at 1.15 × the largest of the others;
    None when there is no such gap (every value fits) or fewer than 5 values."""
    v = sorted((float(x) for x in pd.Series(values, dtype="float64").dropna() if x > 0), reverse=True)
    if len(v) < 5:
        return None
    beyond = 0
    for i in range(min(max(1, int(share * len(v))), len(v) - 1)):
        if v[i] > factor * v[i + 1]:
            beyond = i + 1
    return v[beyond] * 1.15 if beyond else None


def portfolio(df: pd.DataFrame, currency: str = "", labelled: int = 5) -> go.Figure:
    """Key accounts: value of the last 12 months (x) against potential (y), bubble area =
    open pipeline, colour = relationship strength (1 red … 5 green; grey when unknown). An
    account far beyond the others (one 70 M account among 1 M ones) does not squash the chart:
    the axis stops short of it (axis_cap) and the account is drawn at the edge as a triangle with
    its figures, said under the title. The largest bubbles carry
    their account's name."""
    fig = go.Figure()
    biggest = float(df["open_pipeline"].max()) if len(df) and df["open_pipeline"].max() > 0 else 1.0
    x_cap, y_cap = axis_cap(df["value_12m"]), axis_cap(df["potential"])
    named = set(df[df["open_pipeline"] > 0].nlargest(labelled, "open_pipeline")["account_id"]) if len(df) else set()
    groups = [(k, df[df["relationship_strength"] == k]) for k in range(1, 6)]
    groups.append((None, df[df["relationship_strength"].isna()]))
    beyond = 0
    for k, g in groups:
        if not len(g):
            continue
        name = f"{k} · {formatting.RELATIONSHIP.get(k, '')}" if k else "relationship unknown"
        size = 8 + 42 * (g["open_pipeline"].clip(lower=0) / biggest) ** 0.5
        shown = safe_text.frame(g)           # the hover's names as text; customdata keeps the raw id
        hover = [f"<b>{n}</b> ({a})<br>value 12 m {formatting.number(v)} {currency}<br>potential "
                 f"{formatting.number(p)} {currency} ({src})<br>open pipeline {formatting.number(o)} {currency}<br>"
                 f"coverage {formatting.percent(c)}"
                 for n, a, v, p, src, o, c in zip(shown["account_name"], shown["account_id"], g["value_12m"],
                                                  g["potential"], shown["potential_source"], g["open_pipeline"],
                                                  g["coverage_score"])]
        x, y = g["value_12m"].astype(float), g["potential"].astype(float)
        out_x = (x > x_cap) if x_cap else pd.Series(False, index=g.index)
        out_y = (y > y_cap) if y_cap else pd.Series(False, index=g.index)
        beyond += int((out_x | out_y).sum())
        symbols = ["triangle-right" if ox and not oy else "triangle-up" if oy and not ox else
                   "triangle-ne" if ox and oy else "circle" for ox, oy in zip(out_x, out_y)]
        text = []
        for n, a, v, p, ox, oy in zip(shown["account_name"], g["account_id"], x, y, out_x, out_y):
            bits = [str(n)] if a in named or ox or oy else []
            if ox:
                bits.append(f"value {formatting.compact(v)}")
            if oy:
                bits.append(f"potential {formatting.compact(p)}")
            text.append("<br>".join(bits))
        # beyond the top edge the label goes below the mark, beyond the right edge to its left
        where = ["bottom center" if oy else "middle left" if ox else "top center" for ox, oy in zip(out_x, out_y)]
        out = (out_x | out_y).to_numpy()
        xs, ys = (x.clip(upper=x_cap) if x_cap else x), (y.clip(upper=y_cap) if y_cap else y)
        for part, legend in ((~out, True), (out, not (~out).any())):     # the legend shows the circle
            if not part.any():
                continue
            pick = lambda seq: [v for v, keep in zip(seq, part) if keep]          # noqa: E731
            fig.add_trace(go.Scatter(
                x=pick(xs), y=pick(ys), mode="markers+text", name=name, legendgroup=name, showlegend=legend,
                customdata=pick(g["account_id"]), text=pick(text), textposition=pick(where),
                textfont={"size": 11}, cliponaxis=False,
                marker={"size": pick(size), "color": RELATIONSHIP_COLORS.get(k, "#9ca3af"), "opacity": 0.75,
                        "symbol": pick(symbols), "line": {"width": 1, "color": "rgba(127, 127, 127, 0.6)"}},
                hovertext=pick(hover), hoverinfo="text"))
    fig = _layout(fig, "Portfolio: value of the last 12 months against potential",
                  f"value, last 12 months ({currency})" if currency else "value, last 12 months", height=500)
    if beyond:
        fig.update_layout(title={"subtitle": {"text": f"{beyond} account(s) far beyond the others: drawn at the "
                                                      "edge as ▲ or ▶, with their figures", "font": {"size": 12}}},
                          margin={"t": 80})
    fig.update_yaxes(autorange=True, title=f"potential ({currency})" if currency else "potential",
                     separatethousands=True, rangemode="tozero")
    if y_cap:
        fig.update_yaxes(autorange=False, range=[-0.03 * y_cap, y_cap * 1.08])
    fig.update_xaxes(rangemode="tozero")
    if x_cap:
        fig.update_xaxes(autorange=False, range=[-0.03 * x_cap, x_cap * 1.08])
    fig.update_layout(legend={"title": {"text": "Relationship "}, "orientation": "h", "yanchor": "top", "y": -0.16,
                              "xanchor": "left", "x": 0, "itemsizing": "constant"}, margin={"b": 60})
    return fig


@_text_shown_as_text
def coverage_gaps(counts: pd.DataFrame) -> go.Figure:
    """How many accounts miss each coverage criterion (columns `gap`, `accounts`)."""
    fig = go.Figure(go.Bar(x=counts["accounts"], y=counts["gap"], orientation="h", marker_color=PALETTE[3],
                           text=[formatting.number(v) for v in counts["accounts"]], textposition="auto",
                           hovertemplate="%{y}: %{x} accounts<extra></extra>"))
    fig = _layout(fig, "Coverage gaps: accounts missing each criterion", "accounts",
                  height=120 + 40 * max(len(counts), 1))
    return fig


SENTIMENT_FILL = {"supporter": "#dcfce7", "neutral": "#f3f4f6", "detractor": "#fee2e2"}


def _dot_text(value) -> str:
    """A value inside a DOT double-quoted string: backslashes and quotes escaped, line breaks
    as DOT's centred line break."""
    text = "" if formatting.is_missing(value) else str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\r", " ").replace("\n", " ")


def org_chart(people: pd.DataFrame, missing_managers: list[tuple[str, str]]) -> str:
    """The account map as a Graphviz DOT org chart (top down): one box per person with title,
    role and sentiment (fill: green supporter, grey neutral, red detractor; a thick border for
    decision maker, economic buyer and champion), an arrow from manager to report; a manager
    named in reports_to but missing from the map is a dashed grey box; the edges of a reporting
    cycle are red and dashed (Graphviz draws cycles; the caller states them in words)."""
    lines = ['digraph account_map {', '  rankdir=TB; nodesep=0.3; ranksep=0.45; bgcolor="transparent";',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, color="#64748b"];',
             '  edge [color="#94a3b8", arrowsize=0.7];']
    ids = {}
    for i, p in enumerate(people.itertuples(index=False)):
        ids[p.name] = f"p{i}"
        role = "" if formatting.is_missing(p.role) else str(p.role)
        key = role in ("decision maker", "economic buyer", "champion")
        label = "\\n".join(x for x in (_dot_text(p.name), _dot_text(p.title),
                                        " · ".join(_dot_text(v) for v in (role, p.sentiment)
                                                   if not formatting.is_missing(v) and str(v))) if x)
        fill = SENTIMENT_FILL.get(p.sentiment, "#ffffff")
        extra = ', penwidth=2.5, color="#1d4ed8"' if key else ""
        if p.in_cycle:
            extra = ', penwidth=2, color="#dc2626"'
        lines.append(f'  {ids[p.name]} [label="{label}", fillcolor="{fill}"{extra}];')
    ghosts = {}
    for who, boss in missing_managers:
        if boss not in ghosts:
            ghosts[boss] = f"g{len(ghosts)}"
            lines.append(f'  {ghosts[boss]} [label="{_dot_text(boss)}\\n(not on the map)", style="dashed,rounded", '
                         'fillcolor="#ffffff", fontcolor="#6b7280"];')
        lines.append(f'  {ghosts[boss]} -> {ids[who]} [style=dashed];')
    for p in people.itertuples(index=False):
        if not formatting.is_missing(p.manager) and p.manager in ids:
            style = ' [color="#dc2626", style=dashed, constraint=false]' if p.in_cycle else ""
            lines.append(f'  {ids[p.manager]} -> {ids[p.name]}{style};')
    lines.append("}")
    return "\n".join(lines)
