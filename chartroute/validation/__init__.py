"""Data validation beyond structure: Great Expectations suites over the fact tables.

Decoding (``chartroute.sources.decode``) already holds back records the rules cannot read at all.
This package checks what decoded records say — statuses within the FHIR value sets, dates in
order and not in the future, one content per id and version, categories where the rules need
them — with suites an engineer edits under ``config/expectations/``. Failing records are
quarantined row by row; the rest of the feed flows on. Great Expectations is imported only
when a check actually runs, so commands that never validate stay fast to start.
"""
