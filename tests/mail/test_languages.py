"""Email in the submitter's language: the language from the body (detection), Content-Language
or a `LANGUAGE:` line; the form rendered in it; a Spanish and an Arabic form filled in with
answers typed in the language (labels in it, and English labels too) parsed to a submitted case
whose answers equal the English run's; staff follow-ups framed in the case's language."""

from __future__ import annotations

import pytest

from intake import engine, languages, lifecycle
from intake.engine import Draft
from intake.i18n import translator
from intake.questionnaire import FieldType, Question, Questionnaire
from mail.decode import language_asked
from mail.form import label_for
from mail.parse import parse_message
from tests.mail.conftest import Harness
from tests.mail.support import YES_NO, message, text_of
from tests.mail.test_flow import case_of, reference_in
from tests.test_i18n_localise import COUNTRIES, COUNTRY, DATE, NO, NUMBER, RANGE, YES

FIRST = {
    "es": "Hola. Somos una organización de Guatemala que documenta casos de trabajo forzoso en barcos pesqueros. "
    "Queremos presentar un caso con varias víctimas.",
    "ar": "مرحبا",  # too short to detect: the language comes from Content-Language
}


def typed(question: Question, lang: str) -> str:
    """What a submitter writing in `lang` puts after a label: words, names and dates."""
    match question.type:
        case FieldType.YES_NO:
            return YES[lang] if YES_NO.get(question.id, "no") == "yes" else NO[lang]
        case FieldType.SINGLE_CHOICE:
            return question.options[0].text.get(lang)
        case FieldType.MULTI_CHOICE:
            return "1, 2"
        case FieldType.COUNTRY:
            return COUNTRIES[lang] if question.multiple else COUNTRY[lang]
        case FieldType.DATE:
            return RANGE[lang] if question.range else DATE[lang]
        case FieldType.NUMBER:
            return NUMBER[lang]
        case FieldType.EMAIL:
            return "contact@example.org"
        case FieldType.URL:
            return "https://example.org/report"
    return f"Texto, текст, نص {question.id}"


def typed_answers(q: Questionnaire, lang: str) -> tuple[dict[str, str], Draft]:
    """Typed answers (path → text) to every applicable question, and the draft the engine makes of them."""
    draft = engine.start(lang)
    raw: dict[str, str] = {}
    for _ in range(10):
        added = False
        for slot in engine.slots(q, draft):
            question = slot.item
            if slot.kind != "question" or slot.key in raw or not isinstance(question, Question) or question.type == FieldType.FILES:
                continue
            raw[slot.key] = typed(question, lang)
            outcome = engine.set_answer(q, draft, slot.path, raw[slot.key])
            assert outcome.ok, (lang, slot.key, outcome.error)
            draft = outcome.draft
            added = True
        if not added:
            break
    assert not engine.missing(q, draft)
    return raw, draft


def filled_form(q: Questionnaire, answers: dict[str, str], lang: str) -> str:
    """The form filled in: labels in `lang`, every third one in English (always accepted)."""
    lines: list[str] = []
    for n, (key, value) in enumerate(answers.items()):
        label = label_for(q, engine.parse_path(key), "en" if n % 3 == 2 else lang)
        lines += [f"{label}: {value}", ""]
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["es", "ar"])
async def test_form_in_the_language_filled_in_and_submitted(mail: Harness, lang: str) -> None:
    q = mail.app.questionnaire
    t = translator(lang)
    raw, _ = message(FIRST[lang], subject="caso" if lang == "es" else "حالة")
    if lang == "ar":  # (after the body: EmailMessage.set_content drops Content-* headers set before it)
        raw = b"Content-Language: ar-LB\r\n" + raw
    replies = await mail.exchange(raw)
    assert len(replies) == 1
    ref, our_mid = reference_in(str(replies[0]["Subject"])), str(replies[0]["Message-ID"])
    body = text_of(replies[0])
    assert replies[0]["Content-Language"] == lang
    greeting = "Thank you for writing to us. We have opened a draft case with the reference {ref}."
    assert t(greeting, ref=ref) != translator("en")(greeting, ref=ref)
    assert t(greeting, ref=ref).split()[0] in body  # the first-contact reply in the language
    assert f"\n{label_for(q, ('org_name',), lang)}:\n" in body  # the form's labels, hints and questions too
    assert t("(yes or no)") in body and t("(yes or no)") != "(yes or no)"
    assert f"{t('Language')}: {languages.get(lang).native_name}" in body
    case = await case_of(mail.app, ref)
    assert case is not None and case.lang == lang  # type: ignore[attr-defined]

    answers, draft = typed_answers(q, lang)
    english_raw, english = typed_answers(q, "en")
    assert english_raw != answers and draft.answers == english.answers
    reply, _ = message(filled_form(q, answers, lang) + "\nSUBMIT\n", subject=f"Re: [{ref}]", in_reply_to=our_mid)
    replies = await mail.exchange(reply)
    assert len(replies) == 1
    body = text_of(replies[0])
    assert t("Your case was sent to our staff") in str(replies[0]["Subject"]), body[:3000]
    case = await case_of(mail.app, ref)
    assert case is not None and case.status == lifecycle.SUBMITTED  # type: ignore[attr-defined]
    assert case.draft["answers"] == english.answers  # type: ignore[attr-defined]

    # a staff follow-up written in English: their text as written, our wrapper in the case's language
    question = "In which port did the boat dock?"
    async with mail.app.store.write() as uow:
        row = await uow.cases.by_reference(ref, lock=True)
        assert row is not None
        await uow.outbox.enqueue(channel="email", kind="followup", case_id=row.id, submitter_id=row.submitter_id,
                                 payload={"text": question, "reference": ref}, now=mail.app.clock())
    before = len(mail.relay.messages)
    await mail.pump()
    sent = mail.relay.messages[before:]
    assert len(sent) == 1
    body = text_of(sent[0])
    assert question in body and t("A message from our staff about your case {ref}:", ref=ref) in body
    assert sent[0]["Content-Language"] == lang


async def test_language_line_switches_the_case(mail: Harness) -> None:
    q = mail.app.questionnaire
    raw, _ = message("Hello, we want to report a case of forced labour on a fishing boat.")
    replies = await mail.exchange(raw)
    ref, our_mid = reference_in(str(replies[0]["Subject"])), str(replies[0]["Message-ID"])
    assert f"\n{label_for(q, ('org_name',), 'en')}:\n" in text_of(replies[0])
    # an answer with English labels and a request for French
    name = label_for(q, ("org_name",), "en")
    reply, _ = message(f"LANGUE : français\n\n{name}: Association Liberté\n", subject=f"Re: [{ref}]", in_reply_to=our_mid)
    replies = await mail.exchange(reply)
    assert len(replies) == 1
    case = await case_of(mail.app, ref)
    assert case is not None and case.lang == "fr"  # type: ignore[attr-defined]
    assert case.draft["answers"]["org_name"] == "Association Liberté"  # type: ignore[attr-defined]
    fr = translator("fr")
    body = text_of(replies[0])
    assert replies[0]["Content-Language"] == "fr" and fr("Accepted:") in body and label_for(q, ("org_name",), "fr") in body



def test_the_forms_language_line_changed_in_a_quoted_reply() -> None:
    sent = "Thank you.\n\nLanguage: English\n(to change it, write another language: English, Español)\n\nOrganisation name:\n"
    quoted = "\n".join("> " + line for line in sent.replace("Language: English", "Language: العربية").split("\n"))
    raw, _ = message("Answers below.\n\n" + quoted + "\n")
    assert language_asked(parse_message(raw), sent) == "ar"
    unchanged, _ = message("Answers below.\n\n" + "\n".join("> " + line for line in sent.split("\n")) + "\n")
    assert language_asked(parse_message(unchanged), sent) is None  # our own line quoted back asks nothing
    asked, _ = message("Idioma: español\n\nOrganisation name: Libertad\n")
    assert language_asked(parse_message(asked), None) == "es"
