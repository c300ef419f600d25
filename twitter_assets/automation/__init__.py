"""Jobs, schedules and sensors that keep the partitions up to date."""
