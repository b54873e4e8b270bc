"""Reading the formats OpenSanctions publishes, one record at a time (constant memory):
FollowTheMoney entities as JSON lines, and the `targets.simple.csv` table.

`read_entities(path)` yields `LoadBatchItem`s (FtM data + blocking keys) for every matchable
entity; `load(...)` writes them in batches, replacing the dataset in one transaction."""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from followthemoney import EntityProxy, model
from followthemoney.exc import InvalidData

from casework import values as v
from casework.matching import blocking_keys
from storage.casework import LoadBatchItem, SanctionsRepository
from storage.store import Store

log = logging.getLogger(__name__)
BATCH = 500
CSV_FIELDS = {"id", "schema", "name"}
SCREENED_SCHEMAS = ("LegalEntity", "Vessel", "Airplane")  # who and what can be designated


class ListFormatError(ValueError):
    """The file is neither FtM JSON lines nor a targets.simple.csv table."""


def sniff(path: Path) -> str:
    """`ftm` or `csv`, from the first non-blank character (or the header row)."""
    with path.open("rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"{"):
        return "ftm"
    header = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    if CSV_FIELDS <= {c.strip().strip('"') for c in header.split(",")}:
        return "csv"
    raise ListFormatError("not FollowTheMoney JSON lines nor a targets.simple.csv table")


def _item(proxy: EntityProxy, datasets: list[str], programs: list[str], topics: list[str]) -> LoadBatchItem | None:
    if proxy.id is None or not any(proxy.schema.is_a(root) for root in SCREENED_SCHEMAS):
        return None
    props = {k: vals for k, vals in proxy.to_dict()["properties"].items() if vals}
    data = {"properties": props, "datasets": datasets, "programs": programs, "topics": topics}
    return LoadBatchItem(proxy.id, proxy.schema.name, proxy.caption, data, blocking_keys(proxy))


def _split(cell: str | None) -> list[str]:
    return [p.strip() for p in (cell or "").split(";") if p.strip()]


def from_ftm(raw: dict[str, Any], dataset: str) -> LoadBatchItem | None:
    """One FtM entity (as in `entities.ftm.json`) to an index item; non-matchable schemas skipped."""
    try:
        proxy = model.get_proxy({"id": raw.get("id"), "schema": raw.get("schema"), "properties": raw.get("properties") or {}}, cleaned=False)
    except InvalidData:
        return None
    props = raw.get("properties") or {}
    programs = [str(p) for p in (props.get("programId") or []) + (props.get("program") or [])]
    return _item(proxy, [str(d) for d in raw.get("datasets") or [dataset]], programs, [str(t) for t in props.get("topics") or []])


def from_csv(row: dict[str, str], dataset: str) -> LoadBatchItem | None:
    """One row of `targets.simple.csv` to an index item (multiple values split on `;`)."""
    try:
        proxy = model.make_entity(row.get("schema") or "LegalEntity")
    except (InvalidData, KeyError):
        return None
    proxy.id = row.get("id") or None
    proxy.add("name", _split(row.get("name")) or row.get("name"), quiet=True)
    proxy.add("alias", _split(row.get("aliases")), quiet=True)
    proxy.add("birthDate", _split(row.get("birth_date")), quiet=True)
    countries = _split(row.get("countries"))
    proxy.add("nationality" if proxy.schema.is_a("Person") else "country", countries, quiet=True)
    proxy.add("address", _split(row.get("addresses")), quiet=True)
    for ident in _split(row.get("identifiers")):
        if proxy.schema.is_a("Vessel") and v.imo(ident).startswith("IMO"):
            proxy.add("imoNumber", v.imo(ident), quiet=True)
        else:
            proxy.add("registrationNumber" if proxy.schema.is_a("Organization") else "idNumber", ident, quiet=True)
    datasets = _split(row.get("dataset")) or [dataset]
    programs = _split(row.get("program_ids")) or _split(row.get("sanctions"))
    return _item(proxy, datasets, programs, ["sanction"] if row.get("sanctions") else [])


def _lines(fh: IO[bytes]) -> Iterator[str]:
    for raw in fh:
        line = raw.decode("utf-8", "replace").strip()
        if line:
            yield line


def read_entities(path: Path, dataset: str, *, fmt: str | None = None, on_bytes: Callable[[int], None] | None = None) -> Iterator[LoadBatchItem]:
    """Index items from `path`, read line by line; `on_bytes` is told the file offset as it goes."""
    fmt = fmt or sniff(path)
    with path.open("rb") as fh:
        if fmt == "ftm":
            for line in _lines(fh):
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError:
                    log.warning("skipped a line that is not JSON")
                    continue
                item = from_ftm(raw, dataset) if isinstance(raw, dict) else None
                if on_bytes:
                    on_bytes(fh.tell())
                if item:
                    yield item
        else:
            text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
            for row in csv.DictReader(text):
                item = from_csv(row, dataset)
                if on_bytes:
                    on_bytes(fh.tell())
                if item:
                    yield item


async def load(store: Store, path: Path, *, dataset: str, now: datetime, by: str | None = None,
               on_bytes: Callable[[int], None] | None = None) -> int:
    """Replace `dataset` with the entities in `path`, in one transaction; returns how many."""
    fmt = sniff(path)
    count = 0
    async with store.write() as uow:
        repo = SanctionsRepository(uow.session)
        await repo.start_load(dataset, source=fmt, now=now, by=by)
        batch: list[LoadBatchItem] = []
        for item in read_entities(path, dataset, fmt=fmt, on_bytes=on_bytes):
            batch.append(item)
            if len(batch) >= BATCH:
                await repo.add_batch(dataset, batch)
                count += len(batch)
                batch = []
        await repo.add_batch(dataset, batch)
        count += len(batch)
        await repo.finish_load(dataset, count=count)
    log.info("sanctions dataset %s loaded: %d entities", dataset, count)
    return count
