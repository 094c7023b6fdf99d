"""Reports' face: all that another domain may use of reports, in one module (the pattern of Warehouse's
``accounts/interfaces.py``; docs/architecture.md, "Allowed arrows").

Nothing, today: reports sits above the transparency log and reads only it (through
``transparency/interfaces.py``); no domain calls reports. The console's public page and the CLI's
``safeslot report`` commands call ``service``. A domain that comes to need something of reports adds it
here, and only here (``tests/test_import_graph.py`` refuses an import of any other module of reports from
another domain).
"""

from __future__ import annotations

__all__: list[str] = []
