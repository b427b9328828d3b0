"""The management report: one self-contained HTML page and the headline numbers as artifacts."""
