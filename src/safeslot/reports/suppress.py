"""Small-number suppression for published tables: pure, no I/O.

The rule, printed on every report (`RULE`):

1. **Primary.** Any figure from 1 to 10 — a cell or a total — is shown as "1 to 10".
   Zero is shown as 0: it says nobody, so it identifies nobody.
2. **Complementary.** A table is read with its row totals, column totals and grand
   total. In every line (a row with its row total, or a column with its column
   total), if exactly one figure is withheld, the reader could get it back by
   subtraction; so the smallest other non-zero cell of that line is withheld too
   (shown as "hidden"), or the line's total when no such cell remains. This is
   repeated until no line has exactly one withheld figure.
3. **Linked tables.** Tables that share totals (every "requests by …" table has the
   same outcome totals and grand total) withhold a shared total in all of them once
   any of them withholds it, and the rule is applied again.

Zeros are not chosen as complementary cells: a withheld zero next to a "1 to 10" cell
would still let a reader bound the small figure from the total. This follows the
cell-suppression practice of statistical offices (e.g. the U.S. Census Bureau's
disclosure avoidance for tabular data), simplified to one pass per line.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

LOW: Final = 1
HIGH: Final = 10
RANGE_TEXT: Final = "1\u201310"  # 1-10 with an EN DASH, as printed
HIDDEN_TEXT: Final = "hidden"

RULE: Final = (
    f"Small numbers: any figure from {LOW} to {HIGH} is shown as “{RANGE_TEXT}”, so that no "
    "small group of people can be singled out. Where a row or a column would then have "
    "exactly one withheld figure, which a reader could work out from the total, the next "
    f"smallest non-zero figure in that row or column is withheld too and shown as “{HIDDEN_TEXT}” "
    "(or the total, if none is left); this is repeated until no row or column has exactly "
    "one withheld figure. Totals shared between tables are withheld in all of them. "
    "Zero is shown as 0."
)


class Mark(StrEnum):
    SHOWN = "shown"
    RANGE = "range"  # primary: 1..10
    HIDDEN = "hidden"  # complementary


@dataclass(frozen=True)
class Cell:
    value: int
    mark: Mark = Mark.SHOWN

    @property
    def text(self) -> str:
        if self.mark is Mark.RANGE:
            return RANGE_TEXT
        if self.mark is Mark.HIDDEN:
            return HIDDEN_TEXT
        return str(self.value)

    def public(self) -> int | str:
        """What the published report says: the number, or the range/hidden text."""
        return self.value if self.mark is Mark.SHOWN else self.text


@dataclass(frozen=True)
class Suppressed:
    """A table after suppression: cells, row totals, column totals and grand total."""

    cells: tuple[tuple[Cell, ...], ...]
    row_totals: tuple[Cell, ...]
    column_totals: tuple[Cell, ...]
    total: Cell


def is_small(value: int) -> bool:
    return LOW <= value <= HIGH


def _grid(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The table extended with its margins: last column row totals, last row column totals."""
    width = len(cells[0]) if cells else 0
    for row in cells:
        if len(row) != width:
            raise ValueError("every row of a table needs the same number of cells")
        if any(v < 0 for v in row):
            raise ValueError("counts are never negative")
    grid = [[*row, sum(row)] for row in cells]
    grid.append([sum(row[j] for row in grid) for j in range(width + 1)])
    return grid


def _lines(rows: int, cols: int) -> list[list[tuple[int, int]]]:
    """Each line lists its cells with its total last (rows and cols count the margins)."""
    lines = [[(i, j) for j in range(cols)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(cols)]
    return lines


def _complete(grid: list[list[int]], hidden: set[tuple[int, int]]) -> None:
    rows, cols = len(grid), len(grid[0])
    lines = _lines(rows, cols)
    changed = True
    while changed:
        changed = False
        for line in lines:
            withheld = [p for p in line if p in hidden]
            if len(withheld) != 1:
                continue
            inner = [p for p in line[:-1] if p not in hidden and grid[p[0]][p[1]] > 0]
            if inner:
                pick = min(inner, key=lambda p: (grid[p[0]][p[1]], p))
            elif line[-1] not in hidden:
                pick = line[-1]
            else:  # only zeros left beside a withheld total: nothing to subtract from
                continue
            hidden.add(pick)
            changed = True


def suppress(
    cells: Sequence[Sequence[int]], *, withhold_column_totals: frozenset[int] = frozenset()
) -> Suppressed:
    """Apply the rule to one table of counts (rows by columns).

    `withhold_column_totals` names column-total positions (the grand total is
    position `len(columns)`) that a linked table withholds (rule 3).
    """
    if not cells:
        return Suppressed((), (), (), Cell(0))
    grid = _grid(cells)
    rows, cols = len(grid), len(grid[0])
    primary = {(i, j) for i in range(rows) for j in range(cols) if is_small(grid[i][j])}
    hidden = set(primary) | {(rows - 1, j) for j in withhold_column_totals}
    _complete(grid, hidden)

    def cell(i: int, j: int) -> Cell:
        if (i, j) in primary:
            return Cell(grid[i][j], Mark.RANGE)
        if (i, j) in hidden:
            return Cell(grid[i][j], Mark.HIDDEN)
        return Cell(grid[i][j])

    body = tuple(tuple(cell(i, j) for j in range(cols - 1)) for i in range(rows - 1))
    return Suppressed(
        cells=body,
        row_totals=tuple(cell(i, cols - 1) for i in range(rows - 1)),
        column_totals=tuple(cell(rows - 1, j) for j in range(cols - 1)),
        total=cell(rows - 1, cols - 1),
    )


def _withheld_totals(table: Suppressed) -> frozenset[int]:
    marks = [c.mark for c in (*table.column_totals, table.total)]
    return frozenset(j for j, m in enumerate(marks) if m is not Mark.SHOWN)


def suppress_linked(tables: Sequence[Sequence[Sequence[int]]]) -> list[Suppressed]:
    """Suppress tables that share column totals and grand total (rule 3), until stable."""
    withheld: frozenset[int] = frozenset()
    while True:
        done = [suppress(t, withhold_column_totals=withheld) for t in tables]
        now = withheld.union(*(_withheld_totals(t) for t in done if t.cells))
        if now == withheld:
            return done
        withheld = now
