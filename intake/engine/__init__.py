"""The conversation engine: pure functions over a draft. No I/O, no clock, no database.

Every channel renders `next_prompt` and feeds `apply` (or `set_answer` for a form). The package:
`model` (draft, actions, prompts, outcomes, paths), `slots` (conditions, which questions apply,
where answers live, pruning), `phases` (essentials first, details in rounds: the walk, the submit
rule `essential_missing`, the details still wanted `details_missing`, `phase`), `view` (prompts, review summary, help), `apply` (input and commands)
and `targets` (what `edit X` names). Field types are looked up in `intake.fields.registry`.

Use the names re-exported here (`engine.apply`, `engine.slots` are the functions), or import from
a module by its full name (`from intake.engine.slots import holds`).
"""

from intake.engine.apply import apply, parse_yes, set_answer
from intake.engine.model import (
    COMMANDS,
    SKIPPED,
    Action,
    AddFile,
    Answer,
    Choose,
    Command,
    CommandName,
    Draft,
    HelpEntry,
    OptionView,
    Outcome,
    PathT,
    Prompt,
    SectionSummary,
    Slot,
    SummaryLine,
    Toggle,
    parse_path,
    path_key,
    start,
)
from intake.engine.phases import (
    Phase,
    current_slot,
    details_left,
    details_missing,
    essential_missing,
    first_pass_ids,
    next_round,
    phase,
    walk,
)
from intake.engine.slots import answered, get_value, holds, is_required, missing, prune, slots
from intake.engine.targets import EditTarget, resolve_edit
from intake.engine.view import display, help_entries, help_text, instance_label, next_prompt, summary

__all__ = [
    "COMMANDS", "SKIPPED",
    "Action", "AddFile", "Answer", "Choose", "Command", "CommandName", "Draft", "EditTarget", "HelpEntry", "OptionView", "Outcome",
    "PathT", "Phase", "Prompt", "SectionSummary", "Slot", "SummaryLine", "Toggle",
    "answered", "apply", "current_slot", "details_left", "details_missing", "display", "essential_missing", "first_pass_ids",
    "get_value", "help_entries", "help_text", "holds", "instance_label",
    "is_required", "missing", "next_prompt", "next_round", "phase", "parse_path", "parse_yes", "path_key", "prune", "resolve_edit", "set_answer",
    "slots", "start", "summary", "walk",
]
