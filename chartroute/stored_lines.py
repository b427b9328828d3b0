"""Recognise a re-exported record by its line, before decoding it, when its fact is stored.

An EHR's Bulk export without ``_since`` (and a folder an EHR rewrites each night) hands the sync
every record again, of which about 1% changed. Each was decoded, extracted, screened by the
suites and compared with its stored fact by content hash — 57% of a full sync's cost to store
that 1% (bench/README.md). A fact now keeps the hash of the line it was read from
(``fact.line_hash``). Each line's key is guessed from its bytes (its ``"id"``, in a file named
for its type), the stored hashes of a chunk's guesses are fetched by key, and a line whose hash
equals the one stored for its guess is counted and let go: equal hashes mean the same bytes,
which gave the stored fact, so decoding them again could change nothing. A wrong guess (an
``"id"`` of a nested element first, a file of mixed types) only costs the decode it would have
had anyway. Looking up by key needs no index on the hash; one cost a first load 20% more CPU.

The hash is keyed by everything else the fact depends on: the reading rules' own source text
(``chartroute/fhir``, the decoder), the file's resource type and base URL, and what the suites
decide by. Upgrading chartroute, or editing a suite, makes every line new again once; no
version number has to be remembered to bump.

Within a chunk, a line of a resource that another line of the same chunk also holds is read
as before, so two copies of a resource sent together still meet in the suites' duplicate check
and a good copy beside a bad one releases nothing. Copies in different chunks behave as copies
in different windows always did: each is judged alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

import chartroute.fhir
import chartroute.sources.decode
from chartroute.fhir.facts import Fact
from chartroute.fhir.references import resource_key
from chartroute.sources.base import SourceRecord
from chartroute.sources.decode import Decoded, Rejected, decode_record
from chartroute.store import facts as fact_store
from chartroute.store import quarantine as held_store

#: Lines hashed and looked up together: one query by primary key per this many lines.
LINES_PER_LOOKUP = 5000
#: a JSON member ``"id": "<FHIR id>"`` (ids are [A-Za-z0-9-.]{1,64}: no escapes to undo)
_ID = re.compile(rb'"id"\s*:\s*"([A-Za-z0-9\-.]{1,64})"')

Item = Decoded | Rejected | SourceRecord
#: the fact a record's own line gave (not a contained one), with that line's hash, by key
LineHashes = dict[str, tuple[Fact, str]]


def rules_text() -> bytes:
    """The source text of what turns a line into facts: the ``chartroute.fhir`` modules and
    the decoder. Read once per run (a few milliseconds)."""
    package = Path(chartroute.fhir.__file__).parent
    files = [*sorted(package.glob("*.py")), Path(chartroute.sources.decode.__file__)]
    return b"\0".join(f.read_bytes() for f in files)


@dataclass
class Sifted:
    """One chunk of records after the lookup: what must still be read, and what was not."""

    items: list[tuple[SourceRecord, Item]] = field(default_factory=list)
    unchanged: int = 0  # lines recognised as their stored fact's, not decoded


class LineSifter:
    """Hashes lines, looks them up, and decodes only those no stored fact was read from."""

    def __init__(self, engine: Engine, context: bytes):
        self.engine = engine
        self._salt = hashlib.blake2b(context, digest_size=32).digest()
        #: a keyed hasher per file context, copied per line (cheaper than keying each line)
        self._hashers: dict[tuple[str | None, str | None, tuple[tuple[str, str], ...]], Any] = {}
        self._has_facts: bool | None = None

    def line_hash(self, record: SourceRecord) -> str | None:
        """The hash of a record's line in its file's context; none for a record not read
        from a line (a deletion, a Bundle entry, an EHR's search page)."""
        if record.raw is None or record.deleted:
            return None
        aliases = tuple(sorted(record.aliases.items())) if record.aliases else ()
        where = (record.expected_type, record.base, aliases)
        hasher = self._hashers.get(where)
        if hasher is None:
            key = hashlib.blake2b(repr(where).encode(), key=self._salt, digest_size=32).digest()
            hasher = self._hashers[where] = hashlib.blake2b(key=key, digest_size=16)
        line = hasher.copy()
        line.update(record.raw.rstrip(b"\r\n"))
        return line.hexdigest()

    def sift(self, records: Sequence[SourceRecord], lines: LineHashes) -> Sifted:
        """Decode the records of ``records`` whose line no stored fact was read from; record
        in ``lines`` the hash of each decoded record's own fact; release from quarantine the
        resources and locations of the lines let go, as reading them clean would."""
        hashes = [self.line_hash(r) for r in records]
        out = Sifted()
        if not self._store_has_facts():  # a first load: nothing to recognise or look up
            for record, digest in zip(records, hashes, strict=True):
                item = read_record(record)
                out.items.append((record, item))
                _note_line(lines, item, digest)
            return out
        guesses = [
            key_guess(r) if h is not None else None for r, h in zip(records, hashes, strict=True)
        ]
        with self.engine.connect() as conn:
            stored = fact_store.lines_of(conn, {g for g in guesses if g is not None})
        read: dict[int, Item] = {}
        for i, (record, digest) in enumerate(zip(records, hashes, strict=True)):
            guess = guesses[i]
            if digest is None or guess is None or stored.get(guess) != digest:
                read[i] = read_record(record)
        # a stored line of a resource another line here holds is read too, as before
        keys_read = {_key_of(item) for item in read.values()}
        let_go: list[tuple[str, str]] = []  # (key, location)
        for i, record in enumerate(records):
            guess = guesses[i]
            if i in read:
                item = read[i]
            elif guess in keys_read:
                item = decode_record(record)
            else:
                out.unchanged += 1
                let_go.append((guess or "", record.location))
                continue
            out.items.append((record, item))
            _note_line(lines, item, hashes[i])
        if let_go:
            self._release(let_go)
        return out

    def _store_has_facts(self) -> bool:
        """Whether anything was stored before this run, asked once per run: a first load
        looks nothing up (lines repeated within it are read, as they always were)."""
        if self._has_facts is None:
            with self.engine.connect() as conn:
                self._has_facts = fact_store.any_fact(conn)
        return self._has_facts

    def _release(self, let_go: list[tuple[str, str]]) -> None:
        """Release the resources and locations of lines let go, as reading them clean would
        (with nothing held, the usual case, a single probe)."""
        with self.engine.begin() as conn:
            keys = [key for key, _ in let_go]
            places = [held_store.location_key(where) for _, where in let_go]
            held_store.release_quarantine(conn, keys + places)


def read_record(record: SourceRecord) -> Item:
    """A record read: its facts or its reasons; a deletion passes as it is."""
    return record if record.deleted else decode_record(record)


def key_guess(record: SourceRecord) -> str | None:
    """``Type/id`` as a record's line spells it: its file's type and its first ``"id"``
    (exporters write it near the front, after ``resourceType``). Only a guess, checked by
    the stored line hash; none for a line of no known type or with no plain id."""
    if record.raw is None or record.expected_type is None:
        return None
    found = _ID.search(record.raw)
    return f"{record.expected_type}/{found[1].decode()}" if found else None


def _key_of(item: Item) -> str:
    if isinstance(item, SourceRecord):
        return item.deleted or ""
    if item.resource_type and item.resource_id:
        return resource_key(item.resource_type, item.resource_id)
    return ""


def _note_line(lines: LineHashes, item: Item, digest: str | None) -> None:
    """Keep, by key, the record's own fact and its line's hash, to be stored together. The
    own fact comes first in ``extract_facts``' list; contained ones are keyed ``Type/id#local``."""
    if digest is not None and isinstance(item, Decoded) and item.facts:
        own = item.facts[0]
        if "#" not in own.key:
            lines[own.key] = (own, digest)
