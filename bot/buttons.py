"""Inline button presses → an `Inbound` and the renderer of what the chat sees after it: the
pressed message's keyboard edited (a toggle's ✓, the chosen answer written into the question, the
buttons removed), the next prompt, and the press answered last (a toast or an alert when it was
stale or its case is gone). A press on a button of an earlier question changes nothing."""

from __future__ import annotations

from telegram import CallbackQuery, Message

from bot import payloads, render
from bot.mapping import CHANNEL, Context, Direct, Render, Translation
from bot.render import Press
from intake import engine, languages
from intake.channels import Outgoing
from intake.i18n import translator
from intake.inbound import Inbound, Intent, Result


def _answer_only(query_id: str) -> Render:
    return lambda result: [payloads.answer(query_id)]


def _turn(result: Result) -> list[Outgoing]:
    return payloads.messages(render.turn_messages(result.turn, result.lang)) if result.turn is not None else []


def _closed(query_id: str) -> Render:
    def rendered(result: Result) -> list[Outgoing]:
        t = translator(result.lang)
        return [payloads.answer(query_id, t("This case is no longer open. Send /start to begin a new one."), alert=True)]

    return rendered


def _stale(query_id: str) -> Render:
    def rendered(result: Result) -> list[Outgoing]:
        if result.turn is None:
            return _closed(query_id)(result)
        t = translator(result.lang)
        return [payloads.answer(query_id, t("That button belongs to an earlier question. Here is the current one."))] + _turn(result)

    return rendered


def _stepped(query_id: str, message_id: int, text: str | None, action: engine.Action, chosen: str | None) -> Render:
    def rendered(result: Result) -> list[Outgoing]:
        turn = result.turn
        if turn is None:
            return [payloads.answer(query_id)]
        if turn.stale:
            return _stale(query_id)(result)
        out: list[Outgoing] = []
        if isinstance(action, engine.Toggle):
            if turn.ok:  # the same question, its keyboard with the new ✓
                return [payloads.edit_markup(message_id, render.keyboard(turn.prompt, result.lang)), payloads.answer(query_id)]
        elif turn.ok and text:
            if chosen is not None:
                out.append(payloads.edit_text(message_id, render.chosen_suffix(text, chosen)))
            else:
                out.append(payloads.edit_markup(message_id))
        return out + _turn(result) + [payloads.answer(query_id)]

    return rendered


def _action(press: Press, prompt: engine.Prompt, lang: str) -> tuple[engine.Action, str | None] | None:
    """The engine input a press on the current prompt means, and the answer to write into the
    question's message (None: remove its buttons only); None for a press that means nothing."""
    t = translator(lang)
    if press.kind == "o":
        index = int(press.value) if press.value.isdigit() else -1
        if not 0 <= index < len(prompt.options):
            return None
        option = prompt.options[index]
        return (engine.Toggle(option.id) if prompt.multi else engine.Choose(option.id)), option.text
    if press.kind == "e":
        return engine.Command("edit", press.value), None
    if press.kind == "s":
        return engine.Command("submit"), None
    if press.value not in ("back", "skip", "done", "keep", "continue", "details"):
        return None
    chosen: str | None = None
    if press.value == "skip":
        chosen = t("Skipped")
    elif press.value == "keep":
        chosen = prompt.current
    elif press.value == "done":
        picked = [o.text for o in prompt.options if o.selected]
        chosen = ", ".join(picked) if picked else t("Done")
    return engine.Command(press.value), chosen  # type: ignore[arg-type]


async def _prompt_press(ctx: Context, query: CallbackQuery, press: Press, key: str, lang: str | None) -> Translation:
    """A button of the current question or of the review screen: what it means is decided by
    `receive` from the prompt the chat is on, under the chat's lock (no look at it beforehand)."""
    assert isinstance(query.message, Message)
    identity, message = str(query.message.chat.id), query.message
    tagged = press.kind in ("o", "c", "s")
    meant: list[tuple[engine.Action, str | None] | str] = []  # what `resolve` found (this input's own)

    def resolve(prompt: engine.Prompt, case_lang: str) -> engine.Action | None:
        meant.clear()
        if (tagged and press.tag != render.tag_of(prompt)) or (press.kind == "e" and prompt.kind == "stopped"):
            meant.append("stale")
            return None
        action = _action(press, prompt, case_lang)
        meant.append(action if action is not None else "ignore")
        return action[0] if action is not None else None

    def rendered(result: Result) -> list[Outgoing]:
        if not meant:  # no case open
            return _closed(query.id)(result)
        if meant[0] == "stale":
            return _stale(query.id)(result)
        if meant[0] == "ignore":
            return _answer_only(query.id)(result)
        assert not isinstance(meant[0], str)
        action, chosen = meant[0]
        return _stepped(query.id, message.message_id, message.text, action, chosen)(result)

    return Translation(identity, Inbound(Intent.STEP, key=key, lang=lang, resolve=resolve), rendered)


def _confirmations(query_id: str, message_id: int, press: Press) -> Render:
    """Language, cancel and withdraw buttons: the pressed keyboard removed, the outcome said."""

    def rendered(result: Result) -> list[Outgoing]:
        t = translator(result.lang)
        out: list[Outgoing] = []
        if press.kind == "l":
            name = languages.get(result.lang).native_name
            out = [payloads.edit_markup(message_id), payloads.text(t("Language: {name}.", name=name))] + _turn(result)
        elif press.kind == "x":
            if press.value == "yes" and result.done:
                out = [payloads.edit_markup(message_id), payloads.text(t("Your draft and everything in it were deleted. Send /start to begin again."))]
            else:
                out = [payloads.edit_markup(message_id), payloads.text(t("Nothing was deleted."))] + _turn(result)
        elif press.kind == "w":
            out = [payloads.message(render.withdraw_confirm(press.value, result.lang))]
        elif press.kind == "wy":
            text = (
                t("Case {ref} is withdrawn. Our staff will stop working on it.", ref=press.value) if result.done
                else t("That case could not be withdrawn.")
            )
            out = [payloads.edit_markup(message_id), payloads.text(text)]
        elif press.kind == "wn":
            out = [payloads.edit_markup(message_id), payloads.text(t("Nothing was withdrawn."))]
        elif press.kind == "po":
            out = [payloads.message(render.wipe_confirm(result.lang))]
        elif press.kind == "pn":
            out = [payloads.edit_markup(message_id), payloads.text(t("Nothing was deleted."))]
        return out + [payloads.answer(query_id)]

    return rendered


async def _chat_messages(ctx: Context, identity: str, chat_id: int) -> set[int]:
    """The ids of every message of this chat the chat log keeps (ours and the submitter's)."""
    async with ctx.app.store.read() as uow:
        submitter = await uow.submitters.find(channel=CHANNEL, identity=identity)
        entries = await uow.chatlog.for_submitter(submitter.id) if submitter is not None else []
    return {int(mid) for entry in entries if entry.get("chat_id") == chat_id for mid in entry.get("message_ids", [])}


def _wiped(query_id: str, ids: set[int]) -> Render:
    """The press answered, then one row that deletes the messages and reports (see `bot.sender`)."""
    return lambda result: [payloads.answer(query_id), payloads.wipe(sorted(ids), result.lang)]


async def translate(ctx: Context, query: CallbackQuery) -> Translation | Direct:
    """An inline button: an option, a command, a review action, a language, a confirmation."""
    if not isinstance(query.message, Message) or query.message.chat.type != "private":
        return Direct(CHANNEL, [payloads.answer(query.id)])
    identity, key, lang = str(query.message.chat.id), f"cb:{query.id}", query.from_user.language_code
    press = render.decode(query.data)
    if press is None:
        return Translation(identity, Inbound(Intent.IGNORE, key=key, lang=lang), _answer_only(query.id))
    if press.kind in ("o", "c", "e", "s"):
        return await _prompt_press(ctx, query, press, key, lang)
    if press.kind == "pw":
        ids = await _chat_messages(ctx, identity, query.message.chat.id)
        return Translation(identity, Inbound(Intent.NOTICE, key=key, lang=lang), _wiped(query.id, ids | {query.message.message_id}))
    intents = {"l": Intent.LANGUAGE, "x": Intent.DISCARD if press.value == "yes" else Intent.NOTICE, "wy": Intent.WITHDRAW}
    inbound = Inbound(
        intents.get(press.kind, Intent.NOTICE), key=key, lang=lang, text=press.value if press.kind == "l" else None,
        reference=press.value if press.kind == "wy" else None,
    )
    return Translation(identity, inbound, _confirmations(query.id, query.message.message_id, press))
