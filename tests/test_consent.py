"""What the submitter allowed, read from the answers, and the actions it refuses."""

from __future__ import annotations

from intake.consent import FOLLOW_UP, NAME_ORGANISATION, PUBLISH, SHARE_WITH_GOVERNMENTS, consent_of


def test_consent_refused_forbids_sharing_with_governments() -> None:
    c = consent_of({"consent_status": "no", "org_attribution": "no", "publicity": "anonymised", "follow_up": False})
    assert c.share_with_governments is False
    assert c.refusal(SHARE_WITH_GOVERNMENTS) and "did not agree" in (c.refusal(SHARE_WITH_GOVERNMENTS) or "")
    assert c.refusal(NAME_ORGANISATION) and c.refusal(PUBLISH) and c.refusal(FOLLOW_UP)
    assert "anonymised" in (c.refusal(PUBLISH) or "")


def test_written_consent_allows_sharing_unless_confidential_handling_was_asked() -> None:
    ok = consent_of({"consent_status": "written", "org_attribution": "yes", "publicity": "yes", "follow_up": True,
                     "requested_outcome": ["sanctions_recommendation"]})
    assert ok.share_with_governments is True
    assert [ok.refusal(a) for a in (SHARE_WITH_GOVERNMENTS, NAME_ORGANISATION, PUBLISH, FOLLOW_UP)] == [None] * 4
    confidential = consent_of({"consent_status": "oral", "requested_outcome": ["confidential_only"]})
    assert confidential.share_with_governments is False and confidential.refusal(SHARE_WITH_GOVERNMENTS)


def test_unanswered_is_not_consent_and_evidence_items_count_from_one() -> None:
    c = consent_of({"evidence": [{"ev_shareable": "yes"}, {"ev_shareable": "no"}, {"ev_shareable": "redacted"}]})
    assert c.share_with_governments is None and "has not said" in (c.refusal(SHARE_WITH_GOVERNMENTS) or "")
    assert c.evidence_not_shareable == (2,)
