"""What the core calls when a case changes: screen its perpetrators and link them across cases.

Call `case_changed(app, reference)` after the transaction that submitted the case or changed its
answers has committed (never inside it: screening may call yente over the network). Failures are
logged with the case reference only and never raised: the submitter's step has already succeeded."""

from __future__ import annotations

import logging

from casework.links import Linker
from casework.screening import Screener, ScreeningError, rescreen_all
from casework.settings import CaseworkSettings
from casework.yente import YenteError
from intake.app import App

log = logging.getLogger(__name__)


async def case_changed(app: App, reference: str, *, settings: CaseworkSettings | None = None) -> bool:
    """Screen and link one case; False (and a log line) when that could not be done now."""
    try:
        await Screener(app, settings).screen(reference)
        await Linker(app, settings).link_case(reference)
    except (ScreeningError, YenteError, LookupError) as exc:
        log.warning("casework for case %s not done: %s", reference, type(exc).__name__)
        return False
    return True


async def dataset_loaded(app: App, *, settings: CaseworkSettings | None = None) -> int:
    """Screen every case under review again after a list was (re)loaded; returns how many."""
    return await rescreen_all(app, settings=settings)
