"""Pure statistics on counts (no database): shrinkage, case mix, the cap cliff, the composite KPI."""
