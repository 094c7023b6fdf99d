"""The OpenAPI document tells an API client the truth (openapi.py): every error an operation can answer is
listed as RFC 9457 problem+json, with Retry-After where the client must wait, credentials where they are
needed and only there, and a body's limits where there is a body. The server is held to the document by the
schema fuzz (tests/test_openapi_fuzz.py)."""

from __future__ import annotations

from typing import Any

from safeslot.kit.errors import PROBLEM_MEDIA_TYPE
from safeslot.openapi import complete

PROBLEM = {"schema": {"$ref": "#/components/schemas/Problem"}}


def _schema() -> dict[str, Any]:
    return {"paths": {
        "/api/v1/offices": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/api/v1/appointments": {"post": {"requestBody": {}, "responses": {
            "422": {"description": "Validation Error", "content": {"application/json": {"schema": {}}}}}}},
        "/api/v1/appointments/{code}": {"delete": {"responses": {
            "410": {"description": "gone", "content": {"application/json": {"schema": {}}}}}}},
        "/api/v1/agencies": {"get": {"responses": {"401": {"description": "documented bare"}}}, "parameters": []},
    }}


def _needs_credentials(method: str, path: str) -> bool:
    return path == "/api/v1/agencies"


def test_every_operation_lists_the_errors_of_the_layers_around_it_as_problems() -> None:
    paths = complete(_schema(), _needs_credentials)["paths"]
    offices = paths["/api/v1/offices"]["get"]["responses"]
    assert set(offices) == {"200", "400", "404", "422", "429", "503"}  # a read: no body, no conflict, public
    assert all(offices[s]["content"] == {PROBLEM_MEDIA_TYPE: PROBLEM} for s in offices if s != "200")
    assert "Retry-After" in offices["429"]["headers"] and "Retry-After" in offices["503"]["headers"]
    booking = paths["/api/v1/appointments"]["post"]["responses"]
    assert {"408", "409", "413"} <= set(booking) and not {"401", "403"} & set(booking)
    # FastAPI's own 422 said application/json: the server answers problem+json, so the document does too
    assert booking["422"]["content"] == {PROBLEM_MEDIA_TYPE: PROBLEM}
    gone = paths["/api/v1/appointments/{code}"]["delete"]["responses"]["410"]
    assert gone["content"] == {PROBLEM_MEDIA_TYPE: PROBLEM}
    agencies = paths["/api/v1/agencies"]["get"]["responses"]
    assert {"401", "403"} <= set(agencies)
    assert agencies["401"]["content"] == {PROBLEM_MEDIA_TYPE: PROBLEM}  # an error documented without a body
    assert "parameters" in paths["/api/v1/agencies"]  # not an operation: left alone


def test_the_problem_schema_is_declared_once() -> None:
    schema = complete(_schema(), _needs_credentials)
    problem = schema["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]


def test_the_apps_document_says_problem_json_for_every_error(client: Any) -> None:
    document = client.get("/openapi.json").json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, answer in operation.get("responses", {}).items():
                if status[0] in "45":
                    assert list(answer.get("content", {})) == [PROBLEM_MEDIA_TYPE], (method, path, status)
