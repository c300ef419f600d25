"""The per-day table for a terminal: one block per source, every column that matters, aligned."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Column:
    header: str  # what the table shows
    name: str  # the column of gold.daily_interactions / gold.daily_sentiment
    meaning: str
    kind: str = "count"  # count | score | share


INTERACTIONS = [
    Column("tweets", "n_tweets", "tweets matching the search"),
    Column("convs", "n_conversations", "distinct conversations"),
    Column("authors", "n_authors", "distinct authors"),
    Column("to_acct", "n_replies_to_account", "replies to the account"),
    Column("acct", "n_account_tweets", "tweets by the account"),
    Column("acct_conv", "n_account_conversation_tweets", "tweets by others in conversations the account joined"),
    Column("replies", "n_replies", "replies posted"),
    Column("rts", "n_retweets", "retweets posted"),
    Column("quotes", "n_quotes", "quotes posted"),
    Column("likes", "likes", "likes received by the day's tweets (retweets excluded)"),
    Column("rt_recv", "retweets", "retweets received"),
    Column("rep_recv", "replies", "replies received"),
    Column("qt_recv", "quotes", "quotes received"),
]
SENTIMENT = [
    Column("scored", "n_scored", "tweets with a sentiment score"),
    Column("mean", "mean_score", "mean sentiment score", "score"),
    Column("pos%", "share_positive", "share positive", "share"),
    Column("neu%", "share_neutral", "share neutral", "share"),
    Column("neg%", "share_negative", "share negative", "share"),
]
PARTIAL_MARK = "partial"


def _formatter(kind: str) -> Callable[[object], str]:
    def count(value: object) -> str:
        return "-" if pd.isna(value) else f"{int(value):,}"

    def score(value: object) -> str:
        return "-" if pd.isna(value) else f"{float(value):+.2f}"

    def share(value: object) -> str:
        return "-" if pd.isna(value) else f"{float(value) * 100:.0f}%"

    return {"count": count, "score": score, "share": share}[kind]


def day_table_columns(frame: pd.DataFrame) -> list[Column]:
    """The columns `format_day_table` shows for this frame (sentiment only when it has any)."""
    columns = [c for c in INTERACTIONS if c.name in frame.columns]
    if "share_positive" in frame.columns and frame["share_positive"].notna().any():
        columns += [c for c in SENTIMENT if c.name in frame.columns]
    return columns


def _aligned(line: list[str], widths: list[int]) -> str:
    """Day and weekday left-aligned, numbers right-aligned, the partial marker last."""
    cells = [line[0].ljust(widths[0]), line[1].ljust(widths[1])]
    cells += [cell.rjust(width) for cell, width in zip(line[2:-1], widths[2:-1], strict=True)]
    cells.append(line[-1])
    return "  ".join(cells).rstrip()


def format_day_table(frame: pd.DataFrame) -> str:
    """gold.daily_interactions (+ gold.daily_sentiment) as plain text, one block per source.

    Days as YYYY-MM-DD with the weekday, counts with thousands separators, sentiment shares as
    pos/neu/neg percentages beside the interactions when present, `partial` after a day whose
    fetched window does not cover it whole, and a legend of the headers at the end.
    """
    if frame.empty:
        return "no data yet: materialize gold/daily_interactions"
    columns = day_table_columns(frame)
    has_partial = "complete" in frame.columns and (~frame["complete"].fillna(True).astype(bool)).any()
    blocks = []
    for source, rows in frame.groupby("source", sort=True):
        rows = rows.sort_values("day")
        header = ["day", "wd", *(c.header for c in columns), ""]
        body = []
        for _, row in rows.iterrows():
            day = pd.Timestamp(row["day"]).strftime("%Y-%m-%d")
            weekday = str(row["weekday"]) if "weekday" in rows.columns else pd.Timestamp(row["day"]).strftime("%a")
            partial = "complete" in rows.columns and not (pd.isna(row["complete"]) or bool(row["complete"]))
            body.append(
                [day, weekday, *(_formatter(c.kind)(row[c.name]) for c in columns), PARTIAL_MARK if partial else ""]
            )
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        lines = [_aligned(line, widths) for line in [header, *body]]
        blocks.append("\n".join([f"{source} ({len(rows)} days)", *lines]))
    legend = "; ".join(f"{c.header} = {c.meaning}" for c in columns)
    notes = [textwrap.fill(f"columns: {legend}.", width=110)]
    if has_partial:
        notes.append(f"{PARTIAL_MARK} = the fetched window does not cover the whole day (counts are a lower bound).")
    return "\n\n".join(blocks) + "\n\n" + "\n".join(notes)
