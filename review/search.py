"""Search on the staff side: a thin layer over the blind search index in the database
(storage.search_index, filled by every save through intake.searchdoc).

Nothing here holds cases in memory. It registers casework's designation checklist as the
`readiness` score the index stores (the queue's "closest to ready" order), and `reindex`
(re-)tokenises cases in batches — after an upgrade, or with `force` after the search key changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from casework.checklist import checklist
from intake import searchdoc
from intake.clock import Clock, utcnow
from intake.questionnaire import Questionnaire
from storage.queue_pages import QueuePages
from storage.search_index import normalise, terms, words
from storage.store import Store

__all__ = ["normalise", "reindex", "terms", "words"]
log = logging.getLogger(__name__)


def readiness(q: Questionnaire, answers: dict[str, Any]) -> int:
    """The designation checklist's score (casework): points towards a complete package."""
    return checklist(q, answers).score


searchdoc.SCORES["readiness"] = readiness


async def reindex(store: Store, *, batch: int = 500, force: bool = False, clock: Clock = utcnow,
                  progress: Callable[[int], None] | None = None) -> int:
    """Tokenise every case that is not in the index under the current search key (all with
    `force`), `batch` cases per transaction; returns how many. Safe to run while the service runs."""
    after, done = "", 0
    while True:
        async with store.write() as uow:
            n, last = await QueuePages(uow).reindex_batch(after=after, limit=batch, now=clock(), force=force)
        if last is None:
            break
        after, done = last, done + n
        if progress is not None:
            progress(done)
    log.info("search index: %d cases tokenised", done)
    return done
