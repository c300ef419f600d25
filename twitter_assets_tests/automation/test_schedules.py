from twitter_assets.definitions import defs


def test_the_automation_replaces_the_schedule_and_keeps_the_manual_daily_refresh_job():
    assert not list(defs.schedules or [])
    sensor = defs.resolve_sensor_def("keep_partitions_up_to_date")
    assert sensor.default_status.value == "RUNNING"
    assert defs.resolve_sensor_def("alert_on_run_failure").default_status.value == "RUNNING"
    job = defs.resolve_job_def("daily_refresh")
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == {
        "raw/aluraonline",
        "silver/tweets",
        "silver/users",
        "gold/daily_interactions",
        "gold/tweet_sentiment",
        "gold/daily_sentiment",
        "report/daily_html",
    }


def test_every_asset_gets_its_layer_condition_and_gold_a_freshness_policy():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.automation_condition is not None, key
        assert (node.freshness_policy is not None) == (key.path[0] == "gold"), key
