"""When each asset partition is (re)built: declarative automation, applied in one place by layer.

`apply_automation(assets, sources)` maps over the built assets and gives each the condition of its
group (`raw`, `silver`, `gold`; a later `report` group gets the downstream one), so no asset decorator
carries automation of its own and new assets of a layer get it for free. Gold also gets its
freshness policy here. The conditions are evaluated by the sensor in `sensors.py`.

A day's timeline (UTC), for a source on the default recent-search endpoint:
- while the day runs: fetched at every `TODAY_REFRESH_CRON` tick (partial, `clamped`);
- after it ends: fetched once more at `FINALISE_CRON` (the first complete landing);
- until it leaves the 7-day window: fetched again only if it is missing, its last attempt failed, or
  its newest landing stops before the day's end (the final fetch was missed) (gap filling, oldest
  first), such days at most once per `RETRY_CRON` tick;
- silver and gold follow every raw landing of the day, once, after raw; gold day D is also rebuilt
  when silver D+1..D+6 lands (its conversation counts can rise), see `gold_condition`; a failed
  silver or gold day is retried like a failed raw day, at most once per `RETRY_CRON` tick.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

from dagster import AssetKey, AssetRecordsFilter, AssetsDefinition, AutomationCondition, AutomationResult
from dagster._core.definitions.declarative_automation.automation_context import AutomationContext

from twitter_assets.assets.raw import RAW_GROUP, raw_asset_key
from twitter_assets.partitions import FULL_ARCHIVE_ENDPOINT, OutsideApiWindowError, day_bounds, fetch_window, parse_day
from twitter_assets.rows import parse_api_time
from twitter_assets.sources import Source

# Today's partial day: refreshed every 3 hours from 01:00 (not at 00:00, when it is a few seconds old).
TODAY_REFRESH_CRON = "0 1-23/3 * * *"
# Yesterday's final fetch, once it has ended (and the partial fetches of the evening are stale).
FINALISE_CRON = "30 0 * * *"
# A failed day is retried at most once per tick of this (hourly): a 401 or a spent usage cap does not
# loop every evaluation, and a transient outage heals within the hour.
RETRY_CRON = "0 * * * *"


def _today() -> AutomationCondition:
    return AutomationCondition.in_latest_time_window().with_label("today")


def _yesterday() -> AutomationCondition:
    return (AutomationCondition.in_latest_time_window(timedelta(days=2)) & ~_today()).with_label("yesterday")


class FetchableNow(AutomationCondition):
    """True for the days the endpoint still serves at the evaluation time, by the same rule the raw
    asset fetches with (`fetch_window`): the day 7 back stops being fetchable 2 minutes before
    midnight, not at midnight, so the gap filler must not ask for it in between (a run that can only
    fail, and an alert)."""

    def __init__(self, endpoint: str):
        self._endpoint = endpoint

    @property
    def name(self) -> str:
        return f"inside the {self._endpoint}-search window"

    @property
    def description(self) -> str:
        return self.name

    def get_label(self) -> str | None:
        return self.name

    async def evaluate(self, context: AutomationContext) -> AutomationResult:  # type: ignore[override]
        fetchable = set()
        for key in context.candidate_subset.expensively_compute_partition_keys():
            try:
                fetch_window(parse_day(key), context.evaluation_time, self._endpoint)
            except OutsideApiWindowError:
                continue
            fetchable.add(key)
        partitions_def = context.asset_graph_view.asset_graph.get(context.key).partitions_def
        true_subset = context.asset_graph_view.get_subset_from_partition_keys(context.key, partitions_def, fetchable)
        return AutomationResult(context=context, true_subset=true_subset)


class EndNotLanded(AutomationCondition):
    """True for days that ended over `grace` ago whose newest raw fetch stopped before the day's end
    (`fetched_to`, else `window_end` metadata): fetched while the day ran, and the final fetch never
    happened (the daemon was off at 00:30, or a run of the day was still in flight then, so the tick
    passed). A fetch that reached the day's end but kept an older landing counts as done. Only days
    that ended within `horizon` are looked up (one query each): older ones left recent search."""

    def __init__(self, grace: timedelta = timedelta(hours=1), horizon: timedelta = timedelta(days=8)):
        self._grace, self._horizon = grace, horizon

    @property
    def name(self) -> str:
        return "landed only up to before the day's end"

    @property
    def description(self) -> str:
        return self.name

    def get_label(self) -> str | None:
        return self.name

    async def evaluate(self, context: AutomationContext) -> AutomationResult:  # type: ignore[override]
        instance = context.asset_graph_view.instance
        partly = set()
        for key in context.candidate_subset.expensively_compute_partition_keys():
            day_end = day_bounds(parse_day(key))[1]
            if not day_end + self._grace <= context.evaluation_time <= day_end + self._horizon:
                continue
            records = instance.fetch_materializations(
                AssetRecordsFilter(asset_key=context.key, asset_partitions=[key]), limit=1
            ).records
            materialization = records[0].asset_materialization if records else None
            metadata = materialization.metadata if materialization else {}
            reached = metadata.get("fetched_to") or metadata.get("window_end")
            if reached is not None and reached.value and parse_api_time(str(reached.value)) < day_end:
                partly.add(key)
        partitions_def = context.asset_graph_view.asset_graph.get(context.key).partitions_def
        true_subset = context.asset_graph_view.get_subset_from_partition_keys(context.key, partitions_def, partly)
        return AutomationResult(context=context, true_subset=true_subset)


def raw_condition(endpoint: str = "recent") -> AutomationCondition:
    """Gap filling, today's refresh and yesterday's final fetch, for one source's raw asset."""
    never_tried = (AutomationCondition.missing() & ~AutomationCondition.execution_failed()).with_label(
        "missing, never failed"
    )
    unfinished = (AutomationCondition.cron_tick_passed(RETRY_CRON).since_last_handled() & EndNotLanded()).with_label(
        f"landed partly, final fetch missed ({RETRY_CRON})"
    )
    gap = ~_today() & (never_tried | _retry_due() | unfinished)
    if endpoint != FULL_ARCHIVE_ENDPOINT:  # full-archive search reaches every partition
        gap = FetchableNow(endpoint) & gap
    gap = gap.with_label("gap filling")
    today = (_today() & AutomationCondition.cron_tick_passed(TODAY_REFRESH_CRON).since_last_handled()).with_label(
        f"today's refresh ({TODAY_REFRESH_CRON})"
    )
    finalise = (_yesterday() & AutomationCondition.cron_tick_passed(FINALISE_CRON).since_last_handled()).with_label(
        f"yesterday's final fetch ({FINALISE_CRON})"
    )
    return ((gap | today | finalise) & ~AutomationCondition.in_progress()).with_label("raw: fetch")


def _retry_due() -> AutomationCondition:
    """The partition's latest run failed and an hourly retry tick has passed since it was last handled."""
    return (
        AutomationCondition.execution_failed() & AutomationCondition.cron_tick_passed(RETRY_CRON).since_last_handled()
    ).with_label(f"failed, retry due ({RETRY_CRON})")


def _follows_upstream() -> AutomationCondition:
    """Some dep updated (or is requested this tick) since this partition was last handled, or its last run
    failed and a retry is due (a finished raw day never updates again: without the retry a failed silver or
    gold day would stay failed), and no dep is still running: so it runs once, after every raw landing of the
    day has finished."""
    return (
        (AutomationCondition.any_deps_updated().since_last_handled() | _retry_due())
        & ~AutomationCondition.any_deps_in_progress()
        & ~AutomationCondition.in_progress()
    )


def silver_condition() -> AutomationCondition:
    """Rebuild a silver day after any raw source landed it; never for a day no source has landed
    (silver refuses such a day; a source missing a day is skipped)."""
    nothing_landed = AutomationCondition.all_deps_match(
        AutomationCondition.missing() & ~AutomationCondition.will_be_requested()
    ).with_label("no source landed the day")
    return (_follows_upstream() & ~nothing_landed).with_label("follows raw")


class SameDayMatches(AutomationCondition):
    """True for day D of the target when `operand` holds for day D of `key` (identity mapping,
    whatever partition mapping the dependency declares)."""

    def __init__(self, key: AssetKey, operand: AutomationCondition, label: str | None = None):
        self._key = key
        self._operand = operand
        self._label = label

    @property
    def name(self) -> str:
        return f"same day of {self._key.to_user_string()}"

    @property
    def description(self) -> str:
        return self.name

    def get_label(self) -> str | None:
        return self._label

    @property
    def children(self) -> Sequence[AutomationCondition]:
        return [self._operand]

    async def evaluate(self, context: AutomationContext) -> AutomationResult:  # type: ignore[override]
        view = context.asset_graph_view
        keys = set(context.candidate_subset.expensively_compute_partition_keys())
        other_def = view.asset_graph.get(self._key).partitions_def
        target_def = view.asset_graph.get(context.key).partitions_def
        other_keys = {key for key in keys if other_def.has_partition_key(key)}
        child = context.for_child_condition(
            child_condition=self._operand,
            child_indices=[0],
            candidate_subset=view.get_subset_from_partition_keys(self._key, other_def, other_keys),
        )
        result = await child.evaluate_async()
        true_keys = set(result.true_subset.expensively_compute_partition_keys()) & keys
        true_subset = view.get_subset_from_partition_keys(context.key, target_def, true_keys)
        return AutomationResult(context=context, true_subset=true_subset, child_results=[result])


def gold_condition(silver_key: AssetKey) -> AutomationCondition:
    """Gold day D depends on silver D..D+6 (its account-conversation counts see later replies): it is
    rebuilt when any of those silver days updates, once, after silver. A gold day is first built only
    with its own silver day (present or requested this tick), never for a day with nothing landed."""
    own_day = SameDayMatches(
        silver_key,
        ~AutomationCondition.missing() | AutomationCondition.will_be_requested(),
        label="its own silver day is landed or requested",
    )
    return (_follows_upstream() & (~AutomationCondition.missing() | own_day)).with_label("follows silver")


def condition_for(
    asset_key: AssetKey, group: str, sources: Sequence[Source], silver_key: AssetKey
) -> AutomationCondition:
    if group == RAW_GROUP:
        endpoint = next((s.endpoint for s in sources if raw_asset_key(s) == asset_key), "recent")
        return raw_condition(endpoint)
    if group == "silver":
        return silver_condition()
    return gold_condition(silver_key)  # gold, and the later report layer: follow upstream


def apply_automation(
    assets: Iterable[AssetsDefinition], sources: Sequence[Source], silver_key: AssetKey
) -> list[AssetsDefinition]:
    """Every asset with its layer's automation condition (and gold's freshness policy)."""
    from twitter_assets.automation.freshness import freshness_policy_for

    result = []
    for assets_def in assets:
        conditions = {}
        policies = {}
        for key in assets_def.keys:
            group = assets_def.group_names_by_key[key]
            conditions[key] = condition_for(key, group, sources, silver_key)
            policy = freshness_policy_for(group)
            if policy is not None:
                policies[key] = policy
        result.append(
            assets_def.map_asset_specs(
                lambda spec, conditions=conditions, policies=policies: spec.replace_attributes(
                    automation_condition=conditions[spec.key],
                    **({"freshness_policy": policies[spec.key]} if spec.key in policies else {}),
                )
            )
        )
    return result
