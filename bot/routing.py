"""Which translator an update goes to, decided with python-telegram-bot's own filters (the same
ones its handlers use): the staff chat's /help, buttons, commands, text, files, anything else in a
private chat; updates from groups and of other kinds are ignored."""

from __future__ import annotations

from telegram import Update
from telegram.ext import filters

from bot import buttons, commands, messages
from bot.mapping import STAFF_CHANNEL, Context, Direct, Translation

PRIVATE = filters.ChatType.PRIVATE
ATTACHMENTS = filters.Document.ALL | filters.PHOTO | filters.VIDEO | filters.AUDIO | filters.VOICE | filters.VIDEO_NOTE
NOT_SERVICE = ~filters.StatusUpdate.ALL


async def translate(ctx: Context, update: Update) -> Translation | Direct | None:
    """The update in the core's terms, or None when it concerns nobody (nothing to do)."""
    if update.callback_query is not None:
        return await buttons.translate(ctx, update.callback_query)
    message = update.message
    if message is None:
        return None
    if ctx.staff_chat_id is not None and message.chat.id == ctx.staff_chat_id:
        if filters.COMMAND.check_update(update) and commands.command_of(message)[0] == "help":
            return Direct(STAFF_CHANNEL, commands.staff_help())
        return None
    if not PRIVATE.check_update(update):
        return None
    if filters.COMMAND.check_update(update):
        return await commands.translate(ctx, message)
    if filters.TEXT.check_update(update):
        return await messages.text(ctx, message)
    if ATTACHMENTS.check_update(update):
        return await messages.file(ctx, message)
    if NOT_SERVICE.check_update(update):
        return await messages.other(ctx, message)
    return None
