"""JSON shapes of the log's helper endpoints. Hashes are standard base64, as in checkpoints."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class InclusionProofOut(BaseModel):
    index: int = Field(description="Leaf index (0-based).")
    size: int = Field(description="Tree size the proof is for.")
    leaf_hash: str = Field(description="RFC 9162 leaf hash, base64.")
    root: str = Field(description="Root hash of the tree of that size, base64.")
    proof: list[str] = Field(description="Sibling hashes, leaf first, base64.")


class ConsistencyProofOut(BaseModel):
    old: int
    new: int
    proof: list[str] = Field(description="RFC 9162 consistency proof, base64.")


class EntryOut(BaseModel):
    index: int
    leaf_hash: str = Field(description="RFC 9162 leaf hash, base64.")
    entry: dict[str, Any] = Field(description="The entry (its RFC 8785 canonical JSON bytes are what is hashed).")


