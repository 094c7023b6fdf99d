"""Small-number suppression: no cell from 1 to 10 is shown, and no total gives one back."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from safeslot.reports.suppress import HIDDEN_TEXT, RANGE_TEXT, Mark, Suppressed, suppress, suppress_linked


def texts(t: Suppressed) -> list[list[str]]:
    rows = [[c.text for c in row] + [total.text] for row, total in zip(t.cells, t.row_totals, strict=True)]
    return [*rows, [c.text for c in t.column_totals] + [t.total.text]]


def lines(grid: list[list[str]]) -> list[list[str]]:
    return grid + [list(col) for col in zip(*grid, strict=True)]


def withheld(text: str) -> bool:
    return text in (RANGE_TEXT, HIDDEN_TEXT)


def test_a_single_small_cell_in_a_row_takes_the_next_smallest_with_it() -> None:
    t = suppress([[5, 20, 30], [40, 50, 60]])
    assert texts(t) == [
        [RANGE_TEXT, HIDDEN_TEXT, "30", "55"],
        [HIDDEN_TEXT, HIDDEN_TEXT, "60", "150"],
        ["45", "70", "90", "205"],
    ]


def test_two_small_cells_in_a_column_protect_each_other_there_but_not_in_their_rows() -> None:
    t = suppress([[3, 50], [4, 60], [30, 70]])
    assert texts(t) == [
        [RANGE_TEXT, HIDDEN_TEXT, "53"],
        [RANGE_TEXT, HIDDEN_TEXT, "64"],
        ["30", "70", "100"],
        ["37", "180", "217"],
    ]


def test_small_totals_are_shown_as_a_range_too() -> None:
    t = suppress([[2, 3]])
    assert texts(t) == [[RANGE_TEXT, RANGE_TEXT, RANGE_TEXT], [RANGE_TEXT, RANGE_TEXT, RANGE_TEXT]]


def test_zero_is_shown_and_never_chosen_to_hide_a_small_cell() -> None:
    t = suppress([[5, 0, 40]])
    # 40 is hidden instead of 0; its column total then hides too (nothing else left there).
    assert texts(t) == [[RANGE_TEXT, "0", HIDDEN_TEXT, "45"], [RANGE_TEXT, "0", HIDDEN_TEXT, "45"]]


def test_a_table_of_large_numbers_is_shown_as_is() -> None:
    t = suppress([[11, 12], [0, 100]])
    assert texts(t) == [["11", "12", "23"], ["0", "100", "100"], ["11", "112", "123"]]


def test_raw_values_stay_only_inside_the_cells() -> None:
    t = suppress([[5, 20, 30], [40, 50, 60]])
    assert t.cells[0][0].public() == RANGE_TEXT
    assert t.cells[0][1].public() == HIDDEN_TEXT
    assert t.cells[0][2].public() == 30
    assert t.cells[0][0].mark is Mark.RANGE


def test_linked_tables_hide_a_shared_total_in_every_one_of_them() -> None:
    # Both tables have the same column totals (25 and 60) and grand total (85).
    a = [[5, 30], [20, 30]]
    b = [[25, 60]]
    first, second = suppress_linked([a, b])
    withheld_a = {j for j, c in enumerate([*first.column_totals, first.total]) if c.mark is not Mark.SHOWN}
    withheld_b = {j for j, c in enumerate([*second.column_totals, second.total]) if c.mark is not Mark.SHOWN}
    assert withheld_a == withheld_b
    for t in (first, second):
        for line in lines(texts(t)):
            assert sum(withheld(x) for x in line) != 1


counts = st.integers(min_value=0, max_value=40)


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 5).flatmap(lambda w: st.lists(st.lists(counts, min_size=w, max_size=w), min_size=1, max_size=6)))
def test_no_line_ever_has_exactly_one_withheld_figure(cells: list[list[int]]) -> None:
    t = suppress(cells)
    grid = texts(t)
    raw = [[*row, sum(row)] for row in cells]
    raw.append([sum(col) for col in zip(*raw, strict=True)])
    for i, row in enumerate(grid):
        for j, text in enumerate(row):
            v = raw[i][j]
            if 1 <= v <= 10:
                assert text == RANGE_TEXT
            elif text != HIDDEN_TEXT:
                assert text == str(v)  # what is shown is true
    for line in lines(grid):
        assert sum(withheld(x) for x in line) != 1
