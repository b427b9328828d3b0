"""The sheet's parser and the sample's allocation, over arbitrary input."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import given, settings
from hypothesis import strategies as st

from chartroute.review.sample import allocate
from chartroute.review.sheet import (
    COLUMNS,
    ROW_CATEGORIES,
    SheetError,
    SheetRow,
    read_sheet,
    sheet_csv,
)

# Cell text as a spreadsheet may hold it: commas, quotes, line breaks, any script; a cell is
# read back stripped, so none starts or ends with white space.
CELL = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=30
).map(str.strip)
IDS = st.from_regex(r"[A-Za-z0-9\-.]{1,20}", fullmatch=True)


@st.composite
def rows(draw: st.DrawFn) -> SheetRow:
    return SheetRow(
        chart="Encounter/" + draw(IDS),
        category=draw(st.sampled_from(ROW_CATEGORIES)),
        role=draw(CELL),
        assignee=draw(CELL),
        evidence=draw(CELL),
        link=draw(CELL),
        note=draw(CELL),
    )


@settings(max_examples=50)
@given(st.lists(rows(), max_size=12))
def test_a_written_sheet_reads_back_as_written(written: list[SheetRow]) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "sheet.csv"
        path.write_text(sheet_csv(written), encoding="utf-8")
        read = read_sheet(path)
    assert [r.cells() for r in read] == [r.cells() for r in written if any(r.cells())]


@settings(max_examples=50)
@given(st.lists(rows(), min_size=1, max_size=8), st.data())
def test_a_bad_verdict_is_named_by_its_row_and_column(
    written: list[SheetRow], data: st.DataObject
) -> None:
    bad_at = data.draw(st.integers(0, len(written) - 1))
    word = data.draw(CELL.filter(lambda w: w.lower() not in ("", "correct", "wrong", "missing")))
    cells = [list(r.cells()) for r in written]
    cells[bad_at][COLUMNS.index("verdict")] = word
    text = sheet_csv(SheetRow(*c) for c in cells)
    with TemporaryDirectory() as folder:
        path = Path(folder) / "sheet.csv"
        path.write_text(text, encoding="utf-8")
        try:
            read_sheet(path)
        except SheetError as exc:
            assert exc.column == "verdict"
            assert exc.row == bad_at + 2  # the spreadsheet's row, whatever line breaks cells hold
        else:
            raise AssertionError("a bad verdict was accepted")


@given(st.dictionaries(IDS, st.integers(1, 50), min_size=1, max_size=8), st.integers(1, 120))
def test_allocation_fills_the_size_fairly(counts: dict[str, int], size: int) -> None:
    given_out = allocate(counts, size)
    assert sum(given_out.values()) == min(size, sum(counts.values()))
    assert all(0 <= given_out[k] <= counts[k] for k in counts)
    if size >= len(counts):
        assert all(given_out[k] >= 1 for k in counts)
