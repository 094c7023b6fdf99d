"""Submitting checkpoints to witnesses (transparency/witnesses.py): each configured witness is sent the
checkpoint with a consistency proof from the size it last cosigned; a valid cosignature is kept, and a
witness that is down, refuses, or answers without a valid cosignature never stops the log.
Witnesses answer through httpx.MockTransport here (the served witness is in test_witness.py)."""

from __future__ import annotations

import base64
import datetime as dt

import httpx
import pytest
from sqlalchemy.orm import Session

from safeslot.transparency import proofs, service, witnesses
from safeslot.transparency.merkle_verify import verify_consistency
from safeslot.transparency.models import LogCheckpoint
from safeslot.transparency.note import CosignatureSigner, KeyFormatError, Signer, open_checkpoint
from tests.conftest import ON_SQLITE
from tests.transparency.support import entries

NOW = dt.datetime(2027, 3, 1, 14, 0, tzinfo=dt.UTC)
ORIGIN = "safeslot.test/log"
LOG = Signer.generate(ORIGIN)
WITNESS = CosignatureSigner.generate("witness.test")


def _checkpoint(session: Session, size: int) -> LogCheckpoint:
    service.append_raw(session, entries(size - proofs.published_size(session), proofs.published_size(session)), now=NOW)
    return proofs.checkpoint(session, LOG, NOW, origin=ORIGIN)


class Honest:
    """A witness that checks the proof it is sent and cosigns."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.bodies: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        self.bodies.append(body)
        head, _, note = body.partition("\n\n")
        old, *proof = head.splitlines()
        checkpoint, _ = open_checkpoint(note, ORIGIN, LOG.verifier())
        old_size = int(old.removeprefix("old "))
        if old_size:
            verify_consistency(old_size, checkpoint.size, [base64.b64decode(p) for p in proof],
                               proofs.tree_root(self.session, old_size), checkpoint.root_hash)
        return httpx.Response(200, text=WITNESS.cosign(checkpoint, int(NOW.timestamp())).to_line())


def test_a_witness_is_named_by_its_url_and_its_key() -> None:
    w = witnesses.Witness.parse(f" https://witness.test/ {WITNESS.verifier().to_vkey()} ")
    assert (w.url, w.verifier.name) == ("https://witness.test", "witness.test")
    with pytest.raises(KeyFormatError):
        witnesses.Witness.parse(f"https://witness.test {LOG.verifier().to_vkey()}")  # a log key, not a witness's


@ON_SQLITE
def test_a_cosignature_is_kept_and_the_next_submission_proves_the_log_grew(session: Session) -> None:
    witness = witnesses.Witness("https://witness.test", WITNESS.verifier())
    honest = Honest(session)
    with httpx.Client(transport=httpx.MockTransport(honest)) as http:
        first = _checkpoint(session, 3)
        assert witnesses.submit_to_witnesses(session, first, [witness], NOW, http) == {"witness.test": "cosigned"}
        assert honest.bodies[0].startswith("old 0\n\n")
        second = _checkpoint(session, 7)
        assert witnesses.submit_to_witnesses(session, second, [witness], NOW, http) == {"witness.test": "cosigned"}
        assert honest.bodies[1].startswith("old 3\n") and len(honest.bodies[1].split("\n\n")[0].splitlines()) > 1
        witnesses.submit_to_witnesses(session, second, [witness], NOW, http)
    assert len(honest.bodies) == 2  # already cosigned: not sent again


@ON_SQLITE
def test_a_witness_that_fails_is_reported_and_the_log_goes_on(session: Session) -> None:
    checkpoint = _checkpoint(session, 3)
    down = witnesses.Witness("https://down.test", CosignatureSigner.generate("down.test").verifier())
    refusing = witnesses.Witness("https://refusing.test", CosignatureSigner.generate("refusing.test").verifier())
    lying = witnesses.Witness("https://lying.test", CosignatureSigner.generate("lying.test").verifier())

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "down.test":
            raise httpx.ConnectError("refused", request=request)
        if request.url.host == "refusing.test":
            return httpx.Response(403)
        return httpx.Response(200, text=WITNESS.cosign(  # signed with a key that is not lying.test's
            open_checkpoint(checkpoint.note, ORIGIN, LOG.verifier())[0], 0).to_line().replace("witness.test",
                                                                                            "lying.test"))

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        outcomes = witnesses.submit_to_witnesses(session, checkpoint, [down, refusing, lying], NOW, http)
    assert outcomes == {"down.test": "unreachable (ConnectError)", "refusing.test": "refused with HTTP 403",
                        "lying.test": "answered without a valid cosignature"}
