"""Shared FastAPI dependencies: the request's session, the clock and the field-encryption key ring.

Both live on ``app.state`` so that tests can build an app with a fixed clock
and their own keys. Endpoints take them as ``now: NowDep`` and ``ring: RingDep``
and a session as ``session: SessionDep``. Here, not in db.py, so that the worker and the CLI,
which use db.py, do not load FastAPI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from safeslot.db import transaction
from safeslot.kit.crypto import KeyRing


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one transaction per request, committed here and only here (`db.transaction`)."""
    maker: sessionmaker[Session] = request.app.state.sessionmaker
    with transaction(maker) as session:
        yield session


# The one way endpoints take a session. scope="function": FastAPI otherwise runs
# the commit after the response is sent, so a client could hear "201" for a
# write that then fails to commit (invariant "nothing lost, nothing doubled").
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# async on purpose: FastAPI runs a plain `def` dependency in the thread pool,
# a thread hop per request for what is an attribute read.
async def get_now(request: Request) -> dt.datetime:
    now: dt.datetime = request.app.state.clock()
    return now


async def get_keyring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.keyring
    return ring


NowDep = Annotated[dt.datetime, Depends(get_now)]
RingDep = Annotated[KeyRing, Depends(get_keyring)]
