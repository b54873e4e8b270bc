"""The staff actions as one table, and the two routes generated from each row: the console's form
route (`POST /cases/{ref}/<action>`: session + CSRF field, then a redirect to the case with the
done message) and the JSON API route (`POST /api/cases/{ref}/<action>`: session + X-CSRF-Token,
a JSON body checked by the row's schema, the action's result as JSON).

A row names the action, its input schema, the service call, the text shown when it is done and
who may do it. The service enforces who may (review.base); the row says it for the API docs.
"""

# no `from __future__ import annotations`: the generated endpoints' annotations must be objects

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, get_args, get_origin
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from review.model import ActionResult, Actor
from review.service import ReviewService
from review.webctx import ApiWrite, StaffForm, actor_of, console_of

ASSIGNEE = "the assignee or an admin once the case is claimed; any staff member while it is unassigned"


class NoBody(BaseModel):
    """An action that takes no input."""


class AssignBody(BaseModel):
    staff: str = Field(description="Staff id or email")


class TextBody(BaseModel):
    text: str


class RequestInfoBody(BaseModel):
    text: str
    reopen: list[str] = []


class DecideBody(BaseModel):
    outcome: str = Field(description="accepted | declined | escalated")
    reason: str


class StatusBody(BaseModel):
    status: str = Field(description="in_review | submitted")


class CloseBody(BaseModel):
    message: str | None = None


Call = Callable[[ReviewService, Actor, str, Any], Awaitable[ActionResult]]


@dataclass(frozen=True)
class StaffAction:
    """One staff action: URL segment, input schema, service call, done text (keyed by `done`), who may."""

    name: str
    body: type[BaseModel]
    call: Call
    done: str
    done_text: str
    who: str
    summary: str


ACTIONS: list[StaffAction] = [
    StaffAction("claim", NoBody, lambda r, a, ref, b: r.claim(a, ref), "claim", "You claimed the case.",
                "any staff member, while the case is unassigned (409 when someone else has it)", "Claim an unassigned case."),
    StaffAction("assign", AssignBody, lambda r, a, ref, b: r.assign(a, ref, b.staff), "assign", "The case was assigned.",
                ASSIGNEE, "Assign the case to a staff member."),
    StaffAction("unassign", NoBody, lambda r, a, ref, b: r.unassign(a, ref), "unassign", "The case was released to the queue.",
                ASSIGNEE, "Release the case back to the queue."),
    StaffAction("note", TextBody, lambda r, a, ref, b: r.note(a, ref, b.text), "note", "Note added.",
                ASSIGNEE + " (others too when INTAKE_REVIEWERS_MAY_NOTE_OTHERS is on)", "Add an internal note."),
    StaffAction("request-info", RequestInfoBody, lambda r, a, ref, b: r.request_info(a, ref, b.text, reopen=b.reopen), "request_info",
                "Your question was queued for the submitter's channel; the case waits for information.", ASSIGNEE,
                "Ask the submitter for more through their channel; optionally reopen questions."),
    StaffAction("decide", DecideBody, lambda r, a, ref, b: r.decide(a, ref, b.outcome, b.reason), "decide", "Decision recorded.",
                ASSIGNEE, "Record the decision with a reason."),
    StaffAction("status", StatusBody, lambda r, a, ref, b: r.set_status(a, ref, b.status), "status", "Status changed.",
                ASSIGNEE, "Start review (in_review) or return the case to the queue (submitted)."),
    StaffAction("close", CloseBody, lambda r, a, ref, b: r.close(a, ref, message=b.message or None), "close", "The case is closed.",
                ASSIGNEE, "Close a decided case; with a message, tell the submitter."),
]
DONE_TEXTS = {a.done: a.done_text for a in ACTIONS}


def _from_form(model: type[BaseModel], form: Any) -> BaseModel:
    """The schema filled from form fields: a missing text field is empty, a list field takes every value."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if get_origin(info.annotation) is list or list in get_args(info.annotation):
            values[name] = [v for v in form.getlist(name) if isinstance(v, str)]
        else:
            value = form.get(name)
            values[name] = value if isinstance(value, str) else ""
    return model.model_validate(values)


def _form_route(action: StaffAction) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, reference: str, info: StaffForm) -> Response:
        body = _from_form(action.body, await request.form())
        await action.call(console_of(request).review, actor_of(request, info), reference, body)
        return RedirectResponse(f"/cases/{quote(reference.strip().upper())}?done={action.done}", status_code=303)

    endpoint.__name__ = f"form_{action.done}"
    return endpoint


def _api_route(action: StaffAction) -> Callable[..., Awaitable[dict[str, Any]]]:
    model = action.body
    endpoint: Callable[..., Awaitable[dict[str, Any]]]
    if not model.model_fields:
        async def bare(request: Request, reference: str, info: ApiWrite) -> dict[str, Any]:
            return vars(await action.call(console_of(request).review, actor_of(request, info), reference, NoBody()))

        endpoint = bare
    else:
        async def with_body(request: Request, reference: str, body: model, info: ApiWrite) -> dict[str, Any]:  # type: ignore[valid-type]
            return vars(await action.call(console_of(request).review, actor_of(request, info), reference, body))

        endpoint = with_body
    endpoint.__name__ = f"api_{action.done}"
    endpoint.__doc__ = f"{action.summary} Who may: {action.who}."
    return endpoint


def form_router() -> APIRouter:
    """`POST /cases/{reference}/<action>` for every row of the table."""
    router = APIRouter(include_in_schema=False)
    for action in ACTIONS:
        router.add_api_route(f"/cases/{{reference}}/{action.name}", _form_route(action), methods=["POST"])
    return router


def api_router() -> APIRouter:
    """`POST /api/cases/{reference}/<action>` for every row of the table."""
    router = APIRouter(prefix="/api", tags=["review"])
    for action in ACTIONS:
        router.add_api_route(f"/cases/{{reference}}/{action.name}", _api_route(action), methods=["POST"], summary=action.summary)
    return router
