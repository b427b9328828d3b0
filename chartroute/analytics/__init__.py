"""Management figures from the store: daily backlog snapshots, durations and rates, and the ROI."""
