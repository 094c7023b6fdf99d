"""HTTP plumbing (kit/http.py): JSON answers rendered by orjson, and a request body read once by a guard
then handed whole to the application."""

from __future__ import annotations

import asyncio
from typing import Any

from safeslot.kit.http import JSON, read_body, replay


def _receiver(*messages: dict[str, Any]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


def test_a_json_answer_is_compact_utf8_json() -> None:
    answer = JSON({"title": "Solicitar beneficios", "n": 1})
    assert answer.body == b'{"title":"Solicitar beneficios","n":1}'
    assert answer.headers["content-type"] == "application/json"


def test_a_body_in_chunks_is_read_whole_and_a_client_that_left_gives_none() -> None:
    chunks = _receiver({"type": "http.request", "body": b"ab", "more_body": True},
                       {"type": "http.request", "body": b"cd"})
    assert asyncio.run(read_body(chunks)) == b"abcd"
    left = _receiver({"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"})
    assert asyncio.run(read_body(left)) is None


def test_the_application_gets_the_body_once_then_the_real_receive() -> None:
    async def go() -> list[dict[str, Any]]:
        receive = replay(b"abcd", _receiver())
        return [await receive(), await receive()]

    assert asyncio.run(go()) == [{"type": "http.request", "body": b"abcd", "more_body": False},
                                 {"type": "http.disconnect"}]
