"""The Telegram floor: a python-telegram-bot echo bot (a real `Application`, long polling, the
same AIORateLimiter settings as ours) — `python -m bench.echo API_ROOT TOKEN [--limiter aio|none]`.
Ctrl-C stops it."""

from __future__ import annotations

import argparse
import logging

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(update.effective_message.text or "…")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("api")
    parser.add_argument("token")
    parser.add_argument("--limiter", choices=["aio", "none"], default="aio")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    builder = Application.builder().token(args.token).base_url(f"{args.api}/bot").base_file_url(f"{args.api}/file/bot")
    if args.limiter == "aio":
        builder = builder.rate_limiter(AIORateLimiter(max_retries=0))
    application = builder.build()
    application.add_handler(MessageHandler(filters.ALL, echo))
    application.run_polling(timeout=30, poll_interval=0.0, allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
