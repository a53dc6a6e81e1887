"""Per-agent scorecards: config, the counts (tally, daily rollup), the statistics, the drill-down."""
