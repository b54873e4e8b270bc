"""What the submitter allowed, read from their answers, and what it forbids.

Pure: no I/O. Staff see these facts (and can filter on them); an action outside them is refused
with the reason, and only an admin may override it, with a reason of their own that is audited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# what a staff action does with the case, as consent sees it
SHARE_WITH_GOVERNMENTS = "share_with_governments"  # a dossier (md, pdf, ftm, json) sent on to a government
NAME_ORGANISATION = "name_organisation"  # the submitting organisation named to a government
PUBLISH = "publish"  # made public
FOLLOW_UP = "follow_up"  # the submitter asked follow-up questions


@dataclass(frozen=True)
class Consent:
    """`True` allowed, `False` refused, `None` not said (treated as not allowed for sharing)."""

    share_with_governments: bool | None
    share_limits: str | None  # the survivors' own limits, in their words (staff read them)
    name_organisation: str | None  # "yes" | "only_if_necessary" | "no"
    publicity: str | None  # "yes" | "anonymised" | "no"
    follow_up: bool | None
    evidence_not_shareable: tuple[int, ...]  # 1-based evidence items the submitter said may not be shared

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def refusal(self, action: str) -> str | None:
        """Why this action is outside what the submitter allowed, or None when it is within it."""
        if action == SHARE_WITH_GOVERNMENTS and self.share_with_governments is not True:
            return (
                "The survivors did not agree to their information being used for sanctions advocacy."
                if self.share_with_governments is False
                else "The submitter has not said that the survivors agreed to their information being shared with governments."
            )
        if action == NAME_ORGANISATION and self.name_organisation == "no":
            return "The submitter asked that their organisation is not named to governments."
        if action == PUBLISH and self.publicity != "yes":
            return "The submitter did not allow the case to be made public" + (" except anonymised." if self.publicity == "anonymised" else ".")
        if action == FOLLOW_UP and self.follow_up is False:
            return "The submitter asked not to be contacted with follow-up questions."
        return None


def consent_of(answers: dict[str, Any]) -> Consent:
    """The consent facts of a case's answers (ids from the default questionnaire)."""
    status = answers.get("consent_status")
    outcomes = answers.get("requested_outcome") or []
    share: bool | None
    if status in ("written", "oral", "partial", "not_applicable"):
        share = "confidential_only" not in outcomes
    elif status == "no":
        share = False
    else:
        share = None
    evidence = answers.get("evidence") or []
    not_shareable = tuple(i for i, item in enumerate(evidence, 1) if isinstance(item, dict) and item.get("ev_shareable") in (False, "no"))
    follow = answers.get("follow_up")
    return Consent(
        share_with_governments=share,
        share_limits=answers.get("consent_limits") if isinstance(answers.get("consent_limits"), str) else None,
        name_organisation=answers.get("org_attribution"),
        publicity=answers.get("publicity"),
        follow_up=follow if isinstance(follow, bool) else None,
        evidence_not_shareable=not_shareable,
    )
