"""Demo office: one office in America/New_York, three services, staff speaking en/es/vi, eight weeks of hours."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from safeslot.scheduling import repository, service

OFFICE = "central"


def load(session: Session, today: dt.date, weeks: int = 8) -> str:
    """Idempotent: a second run changes nothing but opening any missing slots."""
    office = repository.office_by_slug(session, OFFICE)
    if office is None:
        office = service.add_office(
            session, OFFICE, "Central Benefits Office", "100 Example Plaza, Springfield", "America/New_York"
        )
        # Near downtown Springfield, MA (the bundled ZIP table's area), so the office finder finds it.
        service.set_location(session, office, 42.1015, -72.5898)
        service.add_service(session, office, "apply", "Apply for benefits",
                            "Start a new application. Bring any letters you received.", 30,
                            {"es": ("Solicitar beneficios",
                                    "Empiece una solicitud nueva. Traiga las cartas que haya recibido.")})
        service.add_service(session, office, "card", "Replace a card",
                            "Get a replacement card. Bring a photo ID if you have one.", 15,
                            {"es": ("Reponer una tarjeta",
                                    "Obtenga una tarjeta nueva. Traiga una identificación con foto si tiene una.")})
        service.add_service(session, office, "interview", "Eligibility interview",
                            "A meeting about your case. Bring the letter that asked you to come.", 45,
                            {"es": ("Entrevista de elegibilidad",
                                    "Una reunión sobre su caso. Traiga la carta en la que le pidieron venir.")})
        staff = [
            ("Desk A", ["en"], ["apply", "card"]),
            ("Desk B", ["en", "es"], ["apply", "card", "interview"]),
            ("Desk C", ["en", "es"], ["card", "interview"]),
            ("Desk D", ["en", "vi"], ["apply", "interview"]),
            ("Desk E", ["en"], ["card"]),
            ("Desk F", ["en", "es", "vi"], ["apply", "interview"]),
        ]
        for name, langs, services in staff:
            service.add_staff(session, office, name, langs, services)
        for weekday in range(5):
            service.set_hours(session, office, weekday, dt.time(9, 0), dt.time(16, 30))
    service.generate_slots(session, office, today, today + dt.timedelta(weeks=weeks))
    return OFFICE
