"""PNG charts of one source's recent days, drawn with matplotlib's object API on the Agg canvas.

No pyplot, no display, no global state: every call builds its own `Figure` and `FigureCanvasAgg`,
so charts can be drawn from any thread or process (Dagster steps, the demo, tests).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import math
import pickle
from collections.abc import Sequence
from datetime import date, timedelta

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter
from PIL import Image

WIDTH_INCHES, HEIGHT_INCHES, DPI = 9.0, 5.0, 100  # 900 x 500 px
PARTIAL_NOTE = "partial day (the fetched window does not cover the whole day)"
COLORS = {
    "n_tweets": "#1f77b4",
    "n_replies_to_account": "#9467bd",
    "n_retweets": "#2ca02c",
    "likes": "#d62728",
    "mean_score": "#444444",
    "share_positive": "#2ca02c",
    "share_negative": "#d62728",
}


def _panels(account: str | None) -> list[tuple[str, str]]:
    to = f"@{account}" if account else "the account"
    return [
        ("n_tweets", "Tweets per day"),
        ("n_replies_to_account", f"Replies to {to}"),
        ("n_retweets", "Retweets posted"),
        ("likes", "Likes received (that day's tweets)"),
    ]


def recent_days(frame: pd.DataFrame, source: str, *, days: int = 30, last_day: date | None = None) -> pd.DataFrame:
    """The source's rows for the `days` days ending at `last_day` (default: its newest day), by day."""
    rows = frame[frame["source"] == source].copy()
    if rows.empty:
        return rows
    rows["day"] = pd.to_datetime(rows["day"]).dt.date
    end = last_day or max(rows["day"])
    start = end - timedelta(days=days - 1)
    return rows[(rows["day"] >= start) & (rows["day"] <= end)].sort_values("day").reset_index(drop=True)


def render_source_chart(
    frame: pd.DataFrame,
    source: str,
    *,
    account: str | None = None,
    days: int = 30,
    last_day: date | None = None,
) -> bytes:
    """One source's last `days` days as a 900x500 PNG: small multiples of tweets, replies to the
    account, retweets and likes per day, plus mean sentiment and positive/negative shares when the
    frame has them (`share_positive` not all null). Partial days (`complete` false) are hatched."""
    rows = recent_days(frame, source, days=days, last_day=last_day)
    key = _chart_key(rows, source, account, days)
    png = _DRAWN.get(key) if key is not None else None
    if png is None:
        png = _render(rows, source, account)
        if key is not None:
            while len(_DRAWN) >= _DRAWN_KEPT:
                _DRAWN.pop(next(iter(_DRAWN)))
            _DRAWN[key] = png
    return png


# The newest charts drawn in this process, by their exact inputs (~20 KB each): in one run with the
# in-process executor the sentiment step and the report draw the same charts from the same lake,
# and drawing one takes ~0.3 s.
_DRAWN: dict[bytes, bytes] = {}
_DRAWN_KEPT = 16


def _chart_key(rows: pd.DataFrame, source: str, account: str | None, days: int) -> bytes | None:
    try:
        return hashlib.sha256(pickle.dumps((source, account, days, rows), protocol=5)).digest()
    except Exception:  # noqa: BLE001 - an unpicklable frame is drawn every time
        return None


def _render(rows: pd.DataFrame, source: str, account: str | None) -> bytes:
    has_sentiment = "share_positive" in rows.columns and rows["share_positive"].notna().any()
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    if rows.empty:
        figure.suptitle(f"{source}: no days in the lake yet", fontsize=12, fontweight="bold")
        figure.text(0.5, 0.5, "no data yet: materialize gold/daily_interactions", ha="center", va="center")
        return _png(figure)

    first, last = rows["day"].iloc[0], rows["day"].iloc[-1]
    span = (last - first).days + 1
    figure.suptitle(
        f"{source}: {span} day{'s' if span != 1 else ''}, {first:%d/%m} to {last:%d/%m/%Y} (UTC)",
        fontsize=12,
        fontweight="bold",
    )
    columns = 3 if has_sentiment else 2
    axes = figure.subplots(2, columns, sharex=True, squeeze=False)
    x = mdates.date2num(pd.to_datetime(rows["day"]))
    partial = ~rows["complete"].astype(bool).to_numpy() if "complete" in rows.columns else None
    panels = _panels(account)
    slots = [axes[0][0], axes[0][1], axes[1][0], axes[1][1]]
    for ax, (column, title) in zip(slots, panels, strict=True):
        _bars(ax, x, rows[column].fillna(0).to_numpy(), partial, COLORS[column], title)
    if has_sentiment:
        _mean_score(axes[0][2], x, rows, partial)
        _shares(axes[1][2], x, rows, partial)
    ticks = _tick_interval(span, columns)
    for ax in axes.flat:
        ax.set_xlim(x.min() - 0.6, x.max() + 0.6)
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=ticks))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m"))
        ax.tick_params(labelsize=8)
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes[1]:
        ax.set_xlabel("day (UTC)", fontsize=8)
    if partial is not None and partial.any():
        figure.legend(
            handles=[
                Patch(facecolor="#777777", label="complete day"),
                Patch(facecolor="#77777755", edgecolor="#777777", hatch="///", label=PARTIAL_NOTE),
            ],
            loc="outside lower center",
            ncols=2,
            fontsize=8,
            frameon=False,
        )
    return _png(figure)


def _tick_interval(span: int, columns: int) -> int:
    """Days between date ticks so a panel never shows more than ~6 (2 columns) or ~4 labels."""
    most = 7 if columns == 2 else 5
    return max(1, math.ceil(span / most))


def _bars(ax: Axes, x, values, partial, color: str, title: str) -> None:
    complete = ~partial if partial is not None else None
    if partial is None:
        ax.bar(x, values, width=0.8, color=color)
    else:
        ax.bar(x[complete], values[complete], width=0.8, color=color)
        ax.bar(x[partial], values[partial], width=0.8, color=color, alpha=0.35, hatch="///", edgecolor=color)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("count", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def _line(ax: Axes, x, values, partial, color: str, label: str) -> None:
    ax.plot(x, values, color=color, linewidth=1.5, marker="o", markersize=4, label=label)
    if partial is not None and partial.any():
        ax.plot(
            x[partial],
            values[partial],
            linestyle="none",
            marker="o",
            markersize=6,
            markerfacecolor="white",
            markeredgecolor=color,
        )


def _mean_score(ax: Axes, x, rows: pd.DataFrame, partial) -> None:
    values = rows["mean_score"].astype(float).to_numpy()
    _line(ax, x, values, partial, COLORS["mean_score"], "mean score")
    if pd.notna(values).any() and min(v for v in values if pd.notna(v)) < 0:
        ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_title("Mean sentiment score", fontsize=10)
    ax.set_ylabel("score", fontsize=8)


def _shares(ax: Axes, x, rows: pd.DataFrame, partial) -> None:
    for column, label in (("share_positive", "positive"), ("share_negative", "negative")):
        if column in rows.columns:
            _line(ax, x, rows[column].astype(float).to_numpy() * 100, partial, COLORS[column], label)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_title("Share positive / negative", fontsize=10)
    ax.set_ylabel("share of scored tweets", fontsize=8)
    ax.legend(fontsize=7, loc="upper right", frameon=False)


def _png(figure: Figure) -> bytes:
    """The figure as a 256-colour PNG: a third of the size of a true-colour one, same look."""
    canvas = figure.canvas
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()
    image.convert("RGB").quantize(colors=256).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def chart_markdown(png: bytes, alt: str) -> str:
    """Markdown showing `png` inline (a data: URL), for Dagster's markdown metadata."""
    encoded = base64.b64encode(png).decode("ascii")
    text = html.escape(alt.replace("[", "(").replace("]", ")").replace("\n", " "), quote=True)
    return f"![{text}](data:image/png;base64,{encoded})"


def png_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


__all__: Sequence[str] = ("chart_markdown", "png_data_url", "recent_days", "render_source_chart")
