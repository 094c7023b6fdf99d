"""The booking plan's answer is the bytes the answer model would give (the fast path sends them as they are)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from zoneinfo import ZoneInfo

import orjson
from hypothesis import given
from hypothesis import strategies as st

from safeslot.kit.crypto import normalise_name
from safeslot.scheduling.plan import answer_json
from safeslot.scheduling.rules import data_key_month, format_code
from safeslot.scheduling.schemas import AppointmentOut

ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham",
         "America/St_Johns", "Etc/GMT+12", "Australia/Lord_Howe")
WHEN = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31),
                    timezones=st.just(dt.UTC))


@given(WHEN, st.integers(0, 240), st.sampled_from(ZONES), st.sampled_from([None, "es", "vi", "es-MX"]),
       st.booleans(), st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=10, max_size=10))
def test_the_answer_is_the_models_bytes(start: dt.datetime, minutes: int, zone: str, language: str | None,
                                        opt_in: bool, code: str) -> None:
    tz = ZoneInfo(zone)
    a, b = start.astimezone(tz), (start + dt.timedelta(minutes=minutes)).astimezone(tz)
    model = AppointmentOut(code=format_code(code), status="booked", office="central", service="apply",
                           starts_at=a, ends_at=b, language=language, reminders_opt_in=opt_in, sequence=0)
    assert answer_json(code, "central", "apply", a, b, language, opt_in) == orjson.dumps(model.model_dump(mode="json"))


@given(WHEN, st.sampled_from(ZONES))
def test_the_data_key_month_is_the_utc_month(start: dt.datetime, zone: str) -> None:
    assert data_key_month(start.astimezone(ZoneInfo(zone))) == start.strftime("%Y-%m")


@given(st.text(max_size=40))
def test_names_match_the_same_way_with_or_without_accents(name: str) -> None:
    """The ASCII shortcut of normalise_name gives what the full Unicode path gives."""
    letters = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    assert normalise_name(name) == " ".join(letters.casefold().replace("-", " ").replace(".", " ").split())
