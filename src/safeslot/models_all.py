"""Imports every domain's models so Base.metadata knows every table (Alembic, tests)."""

from safeslot import chain as chain_models  # noqa: F401  (record_chain_commit)
from safeslot.disclosure import models as disclosure_models  # noqa: F401
from safeslot.identity import models as identity_models  # noqa: F401
from safeslot.notifications import models as notifications_models  # noqa: F401
from safeslot.privacy import models as privacy_models  # noqa: F401
from safeslot.reports import models as reports_models  # noqa: F401
from safeslot.scheduling import models as scheduling_models  # noqa: F401
from safeslot.scheduling.queue import models as queue_models  # noqa: F401
from safeslot.transparency import models as transparency_models  # noqa: F401
