"""Acceptance: the original project's real API pages, replayed through the simulator and every asset,
give the original gold table's per-day counts."""

from datetime import date, datetime, timedelta, timezone

from twitter_assets.simulator import FileCorpus

FIRST_RECORDED_DAY = date(2021, 12, 9)
COMPARED_DAYS = 6  # 2021-12-09..14; the 15th is only the morning the last extraction window reached


def test_replay_of_real_pages_matches_the_original_gold_table(seed_pages, seed_gold, make_simulator, make_pipeline):
    first_day = datetime.now(timezone.utc).date() - timedelta(days=COMPARED_DAYS)  # the oldest whole day in the window
    shift = (first_day - FIRST_RECORDED_DAY).days
    simulator = make_simulator(
        corpus=FileCorpus.from_ndjson(seed_pages, recorded_query="AluraOnline", shift_days=shift)
    )
    pipeline = make_pipeline(simulator=simulator)

    result = pipeline.backfill(first_day, first_day + timedelta(days=COMPARED_DAYS - 1))
    assert result.success

    rows = pipeline.query(
        """SELECT day, n_tweets, n_conversations, n_replies_to_account, n_account_conversation_tweets, weekday
           FROM gold.daily_interactions ORDER BY day"""
    )
    original = {row["creation_date"]: row for row in seed_gold}
    assert len(rows) == COMPARED_DAYS
    for day, n_tweets, n_conversations, n_replies, n_account_conversation, _ in rows:
        expected = original[(day - timedelta(days=shift)).isoformat()]
        assert (n_tweets, n_conversations) == (expected["n_tweets"], expected["n_conversation"]), day
        # On these pages the original's join duplicated nothing, so its account metrics match too.
        assert (n_replies, n_account_conversation) == (expected["reply_alura"], expected["alura_conversation"]), day
    assert sum(row[1] for row in rows) == 141  # 148 recorded tweets minus the 7 of 2021-12-15
