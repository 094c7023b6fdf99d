"""Shared FastAPI dependencies: the clock and the field-encryption key ring.

Both live on ``app.state`` so that tests can build an app with a fixed clock
and their own keys. Endpoints take them as ``now: NowDep`` and ``ring: RingDep``
(as they take a session as ``SessionDep`` from db.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request

from safeslot.kit.crypto import KeyRing


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
