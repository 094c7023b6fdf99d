"""Reading the public booking forms (console/forms.py): what a person typed becomes a booking, or a
message beside the field to fix, in the order the fields appear; a contact only with reminders ticked."""

from __future__ import annotations

import datetime as dt

from safeslot.console.forms import BookingForm, parse_code, parse_day, parse_start

START = "2027-03-02T09:15:00-05:00"


def _form(**fields: object) -> BookingForm:
    return BookingForm(**{"office": "central", "service": "card", "start": START, "name": "Test Person M",
                          **fields})  # type: ignore[arg-type]


def test_a_code_is_read_as_typed_and_a_short_one_says_so() -> None:
    errors: dict[str, str] = {}
    assert parse_code(" abcde 12345 ", errors) == parse_code("ABCDE-12345", errors) and errors == {}
    parse_code("ABC-12", errors)
    assert errors == {"code": "The code has 10 letters and numbers. Check it and try again."}
    errors.clear()
    parse_code("  ", errors)
    assert errors == {"code": "Enter the code from your confirmation."}


def test_a_day_and_a_start_are_read_or_refused() -> None:
    errors: dict[str, str] = {}
    assert parse_day("2027-03-15", "day", errors) == dt.date(2027, 3, 15)
    assert parse_day("", "day", errors) is None and errors == {}
    assert parse_day("15/03/2027", "day", errors) is None
    assert errors == {"day": "Enter a date like 2027-03-15 (year, month, day)."}
    assert parse_start(START) == dt.datetime(2027, 3, 2, 14, 15, tzinfo=dt.UTC)
    assert parse_start("2027-03-02T09:15:00") is None  # a time without its offset is no start
    assert parse_start("soon") is None


def test_a_complete_form_becomes_a_booking_with_reminders_only_when_asked() -> None:
    form = _form(name="  Test Person M  ", language="es", contact_kind="email", contact="person-m@example.org",
                 reminders=True)
    assert form.validate() == {}
    booking = form.to_booking()
    assert (booking.name, booking.language, booking.reminders_opt_in) == ("Test Person M", "es", True)
    assert booking.contact is not None and booking.contact.value == "person-m@example.org"
    plain = _form().to_booking()
    assert plain.contact is None and not plain.reminders_opt_in and plain.language is None


def test_each_mistake_gets_its_message_beside_its_field_in_page_order() -> None:
    errors = _form(start="", name="", language="klingon!", accommodation="x" * 501).validate()
    assert list(errors) == ["start", "name", "language", "accommodation"]
    assert errors["name"] == "Enter your name or your initials."
    # collect the minimum: a contact without the reminders box is refused, not silently kept
    assert _form(contact_kind="phone", contact="555-0100").validate() == {
        "contact": "To get reminders, check the box above. If you do not want them, leave this empty."}
    assert _form(reminders=True).validate() == {
        "contact": "Enter a phone number or an email address for your reminders."}
    assert _form(reminders=True, contact_kind="email", contact="not-an-address").validate() == {
        "contact": "Enter an email address like name@example.com."}
    assert _form(reminders=True, contact_kind="phone", contact="12").validate() == {
        "contact": "Enter a phone number with at least 7 digits, like 555-0100."}
    assert _form(name="Test\u202ePerson").validate() == {"name": "Check your answers and try again."}
