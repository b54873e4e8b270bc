"""Staff-side commands: `intake review …` and `intake staff …` (registered by `intake.cli`).

Every command calls the same `ReviewService` / `AuthService` functions as the console; actions
name the staff member with `--as EMAIL` and are audited from `cli`.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from intake import app as core
from intake.cliutil import console, err, migrate_db, settings_or_exit, with_app
from review.auth import AuthError, AuthService
from review.search import reindex
from review.service import Actor, QueueFilter, ReviewError, ReviewService

review_app = typer.Typer(help="The staff review queue and actions.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff accounts for the console.", no_args_is_help=True)
T = TypeVar("T")

AsOpt = Annotated[str, typer.Option("--as", help="Your staff email (recorded in the audit)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _run(fn: Callable[[ReviewService, AuthService], Awaitable[T]]) -> T:
    """Run `fn` with the services over a migrated database; staff-facing errors exit 1."""
    settings = settings_or_exit()
    migrate_db(settings)

    async def go(application: core.App) -> T:
        review = ReviewService(application.store, application.questionnaire, clock=application.clock,
                               reviewers_may_note_others=application.settings.reviewers_may_note_others)
        return await fn(review, AuthService(application.store, clock=application.clock))

    try:
        return asyncio.run(with_app(settings, go))
    except ReviewError as exc:
        err.print(f"[bold red]Not done:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None


def cli_remote() -> str:
    """Where a CLI action came from, for the audit: the host account that ran it. `--as` names the
    staff member but cannot prove it (whoever runs the CLI holds the master key); the OS account
    beside it says who really did."""
    return f"cli:{getpass.getuser()}"[:64]


def _act(as_staff: str, action: Callable[[ReviewService, Actor], Awaitable[Any]]) -> Any:
    async def fn(review: ReviewService, auth: AuthService) -> Any:
        actor = await auth.actor_for(as_staff, remote=cli_remote())
        return await action(review, actor)

    result = _run(fn)
    console.print(f"{result.reference}: {result.status}" + (f" (outbox {result.outbox_id})" if result.outbox_id else ""), highlight=False)
    return result


# ---- review -----------------------------------------------------------------------------------


@review_app.command("list")
def review_list(
    status: Annotated[list[str] | None, typer.Option("--status", help="Only this status (repeatable)")] = None,
    channel: Annotated[list[str] | None, typer.Option("--channel", help="telegram | email | terminal (repeatable)")] = None,
    form: Annotated[list[str] | None, typer.Option("--form", help="Abuse form id (repeatable)")] = None,
    country: Annotated[str | None, typer.Option("--country", help="ISO code of a place of abuse")] = None,
    minors: Annotated[str | None, typer.Option("--minors", help="yes | no | unknown")] = None,
    consent: Annotated[str | None, typer.Option("--consent", help="allowed | refused | not_said: sharing with governments")] = None,
    ongoing: Annotated[str | None, typer.Option("--ongoing", help="yes | no | unknown")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Assigned to the --as staff member")] = False,
    unassigned: Annotated[bool, typer.Option("--unassigned")] = False,
    files: Annotated[bool | None, typer.Option("--files/--no-files", help="With / without attachments")] = None,
    search: Annotated[str, typer.Option("--search", "-q", help='Words or "a phrase" in the answers')] = "",
    oldest_first: Annotated[bool, typer.Option("--oldest-first")] = False,
    page: int = 1,
    limit: int = 100,
    as_staff: Annotated[str | None, typer.Option("--as", help="Your staff email (for --mine)")] = None,
    as_json: JsonOpt = False,
    with_answers: Annotated[bool, typer.Option("--answers/--no-answers", help="With --json: include every answer (each case listed is audited as viewed)")] = True,
) -> None:
    """The queue (every status but draft; `--status draft` is for admins, named with --as)."""
    if mine and not as_staff:
        err.print("--mine needs --as EMAIL")
        raise typer.Exit(2)
    flt = QueueFilter(
        statuses=status or [], channels=channel or [], abuse_forms=form or [], country=country, minors=minors, ongoing=ongoing, consent=consent,
        assigned="me" if mine else "unassigned" if unassigned else None, has_attachments=files, search=search,
        newest_first=not oldest_first, page=page, per_page=limit,
    )

    async def fn(review: ReviewService, auth: AuthService) -> Any:
        actor = await auth.actor_for(as_staff, remote=cli_remote()) if as_staff else None
        page_ = await review.queue(flt, actor=actor)
        if not as_json or not with_answers:
            return page_, {}
        # machine-readable output carries every answer: each case listed is a case viewed (audited)
        viewer = actor or operator()
        answers = {item.reference: (await review.show(item.reference, viewer)).answers for item in page_.items}
        return page_, answers

    result, answers = _run(fn)
    if as_json:  # the design's contract: a JSON list of queue items
        print(json.dumps([{**asdict(i), **({"answers": answers[i.reference]} if with_answers else {})} for i in result.items], ensure_ascii=False, indent=2))
        return
    table = Table("reference", "status", "channel", "submitted", "assigned", "abuse", "title")
    for i in result.items:
        table.add_row(i.reference, i.status, i.channel, (i.submitted_at or "")[:16], i.assigned_to or "", ", ".join(i.abuse_forms), escape(i.title or ""))
    console.print(table)
    console.print(f"{result.total_text} cases; page {result.page} of {result.pages}{'+' if result.more else ''}. " + "  ".join(f"{k}: {result.count_text(k)}" for k in sorted(result.counts)))


@review_app.command("reindex")
def review_reindex(
    batch: Annotated[int, typer.Option("--batch", help="Cases per transaction")] = 500,
    force: Annotated[bool, typer.Option("--all", help="Re-tokenise every case, not only those missing from the index")] = False,
) -> None:
    """Build the search index: tokenise the cases it does not hold under the current search key
    (after an upgrade or a key change), BATCH per transaction; safe while the service runs."""

    async def fn(review: ReviewService, auth: AuthService) -> int:
        return await reindex(review.store, batch=max(1, batch), force=force, clock=review.clock,
                             progress=lambda n: err.print(f"{n} cases tokenised", highlight=False))

    console.print(f"Search index: {_run(fn)} cases tokenised.", highlight=False)


def operator() -> Actor:
    """An unnamed operator at this machine's terminal, audited as `cli` with the OS user name."""
    return Actor(f"os:{getpass.getuser()}"[:64], "", "cli", cli_remote(), kind="cli")


@review_app.command("show")
def review_show(
    reference: str,
    as_staff: Annotated[str | None, typer.Option("--as", help="Your staff email (recorded in the audit; default: your OS user)")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One case: triage, answers by section, attachments, thread, notes, audit (the view is audited)."""

    async def fn(review: ReviewService, auth: AuthService) -> Any:
        return await review.show(reference, await auth.actor_for(as_staff, remote=cli_remote()) if as_staff else operator())

    view = _run(fn)
    if as_json:
        print(json.dumps(view.to_dict(), ensure_ascii=False, indent=2))
        return
    out = console.print
    out(f"[bold]{view.reference}[/]  {view.status}  via {view.channel}  submitted {view.submitted_at or '-'}  assigned {view.assigned_to or '-'}")
    for w in view.warnings:
        out(f"[yellow]! {escape(w)}[/]")

    def lines(answers: list[dict[str, Any]]) -> None:
        for line in answers:
            pad = "  " * (line["depth"] + 1)
            out(f"{pad}[dim]{escape(line['label'])}:[/] {escape(line['value'])}", highlight=False)

    out("\n[bold underline]Triage[/]")
    for block in view.triage:
        out(f"[bold]{block['title']}[/]")
        lines(block["answers"])
    for section in view.sections:
        if section["answers"]:
            out(f"\n[bold]{section['index']}. {escape(section['title'])}[/]")
            lines(section["answers"])
    if view.attachments:
        out("\n[bold]Attachments[/]")
        for a in view.attachments:
            out(f"  {a['id']}  {a['filename']}  {a['size']} bytes  sha256 {a['sha256']}", highlight=False, markup=False)
    if view.thread:
        out("\n[bold]Thread[/]")
        for m in view.thread:
            delivery = f" [{m['delivery']}]" if m["delivery"] else ""
            out(f"  {m['created_at'][:16]} {m['direction']} {m['kind']}{delivery}: {m['body']}", highlight=False, markup=False)
    if view.notes:
        out("\n[bold]Notes[/]")
        for n in view.notes:
            out(f"  {n['created_at'][:16]} {n['author']}: {n['body']}", highlight=False, markup=False)
    out("\n[bold]Audit[/]")
    for e in view.audit:
        out(f"  {e['at'][:19]} {e['action']} by {e['actor_kind']} {e['actor'] or ''} {e['remote'] or ''}", highlight=False, markup=False)


@review_app.command("claim")
def review_claim(reference: str, as_staff: AsOpt) -> None:
    """Claim an unassigned case (fails if someone else has it)."""
    _act(as_staff, lambda r, a: r.claim(a, reference))


@review_app.command("assign")
def review_assign(reference: str, to: Annotated[str, typer.Option("--to", help="Staff email")], as_staff: AsOpt) -> None:
    """Assign a case to a staff member."""
    _act(as_staff, lambda r, a: r.assign(a, reference, to))


@review_app.command("unassign")
def review_unassign(reference: str, as_staff: AsOpt) -> None:
    """Release a case back to the queue."""
    _act(as_staff, lambda r, a: r.unassign(a, reference))


@review_app.command("note")
def review_note(reference: str, text: str, as_staff: AsOpt) -> None:
    """Add an internal note."""
    _act(as_staff, lambda r, a: r.note(a, reference, text))


@review_app.command("request-info")
def review_request_info(
    reference: str,
    text: str,
    as_staff: AsOpt,
    reopen: Annotated[list[str] | None, typer.Option("--reopen", help="A question id to reopen (repeatable)")] = None,
) -> None:
    """Ask the submitter for more through their channel; the case waits for information."""
    _act(as_staff, lambda r, a: r.request_info(a, reference, text, reopen=reopen or []))


@review_app.command("decide")
def review_decide(
    reference: str,
    outcome: Annotated[str, typer.Argument(help="accepted | declined | escalated")],
    as_staff: AsOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why (internal)")],
) -> None:
    """Record a decision with a reason."""
    _act(as_staff, lambda r, a: r.decide(a, reference, outcome, reason))


@review_app.command("status")
def review_status(reference: str, status: Annotated[str, typer.Argument(help="in_review | submitted")], as_staff: AsOpt) -> None:
    """Start review, or return a case to the queue."""
    _act(as_staff, lambda r, a: r.set_status(a, reference, status))


@review_app.command("close")
def review_close(
    reference: str,
    as_staff: AsOpt,
    message: Annotated[str | None, typer.Option("--message", help="Tell the submitter this through their channel")] = None,
) -> None:
    """Close a decided case."""
    _act(as_staff, lambda r, a: r.close(a, reference, message=message))


@review_app.command("failed")
def review_failed(as_staff: AsOpt, as_json: JsonOpt = False) -> None:
    """Failed inbox and outbox rows (admins)."""

    async def fn(review: ReviewService, auth: AuthService) -> Any:
        return await review.failed_items(await auth.actor_for(as_staff, remote=cli_remote()))

    items = _run(fn)
    if as_json:
        print(json.dumps(asdict(items), ensure_ascii=False, indent=2))
        return
    for r in items.outbox:
        console.print(f"outbox {r['id']} {r['channel']} {r['kind']} case {r['case'] or '-'} attempts {r['attempts']}: {r['error'] or ''}", markup=False, highlight=False)
    for r in items.inbox:
        console.print(f"inbox {r['id']} {r['received_at'][:16]} {r['size']} bytes attempts {r['attempts']}: {r['error'] or ''}", markup=False, highlight=False)


@review_app.command("retry")
def review_retry(kind: Annotated[str, typer.Argument(help="inbox | outbox")], item_id: str, as_staff: AsOpt) -> None:
    """Put a failed inbox or outbox row back for another attempt (admins)."""

    async def fn(review: ReviewService, auth: AuthService) -> None:
        await review.retry(await auth.actor_for(as_staff, remote=cli_remote()), kind, item_id)

    _run(fn)
    console.print(f"{kind} {item_id} requeued")


# ---- export: moved to casework.cli (`intake export`, registered by intake/cli.py) -------------


# ---- staff ------------------------------------------------------------------------------------


@staff_app.command("add")
def staff_add(
    email: str,
    role: Annotated[str, typer.Option("--role", help="reviewer | admin")] = "reviewer",
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from standard input")] = False,
) -> None:
    """Create a staff account (password from a prompt, or --password-stdin)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def fn(review: ReviewService, auth: AuthService) -> Any:
        return await auth.add_staff(email, password, role)

    try:
        record = _run(fn)
    except AuthError as exc:  # pragma: no cover - AuthError is a ReviewError, handled in _run
        err.print(str(exc))
        raise typer.Exit(1) from None
    console.print(f"added {record.email} ({record.role})", highlight=False)


@staff_app.command("list")
def staff_list(as_json: JsonOpt = False) -> None:
    """Staff accounts (no secrets)."""

    async def fn(review: ReviewService, auth: AuthService) -> Any:
        return await auth.list_staff()

    rows = [
        {"id": s.id, "email": s.email, "role": s.role, "active": s.active, "totp": s.totp_secret is not None,
         "totp_required": s.totp_required, "last_login_at": s.last_login_at.isoformat() if s.last_login_at else None}
        for s in _run(fn)
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("email", "role", "active", "totp", "last login")
    for r in rows:
        table.add_row(r["email"], r["role"], "yes" if r["active"] else "no", "on" if r["totp"] else "off", (r["last_login_at"] or "never")[:16])
    console.print(table)
