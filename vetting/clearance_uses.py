"""What one clearance lets a volunteer do, task type by task type, in plain words. Pure: no Flask, no ORM.

"Your vetting" said only "NPPV level 2 (full) Granted"; a volunteer wants to know what that means for them.
The answer comes from the task-type policies in force (vetting.policy.current_task_policies, as coordinators
edited or added them), the same source the matcher checks, so the page can never promise what the matcher
would refuse. Skills, warrant and the rest are the matcher's other rules: the page says so in one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from vetting.catalogue import TaskPolicy
from vetting.lifecycle import ACTIVE_STATES
from vetting.policy_text import describe_groups
from vetting.rules import ClearanceFact

ALWAYS_SUPERVISED = "Yes, with a supervising officer: this task is always supervised"
ON_YOUR_OWN = "Yes, on your own or with a supervising officer"
RESTRICTED = "No: this clearance was granted with a restriction on this task"


@dataclass(frozen=True)
class TaskUse:
    task_name: str
    words: str


def clearance_uses(
    clearance: ClearanceFact, held: Sequence[ClearanceFact], tasks: Iterable[TaskPolicy], today: date
) -> list[TaskUse]:
    """For each task type ``clearance``'s type counts towards: whether the volunteer can do it, and how.

    ``held`` is all the volunteer's clearances (a task may need two, e.g. counter-terrorism work). Judged on
    ``today``, or on the day the clearance starts if later. Empty when the clearance is not in force.
    """
    if clearance.state not in ACTIVE_STATES or clearance.expires_on < today:
        return []
    day = max(today, clearance.valid_from)
    uses = []
    for task in tasks:
        if clearance.type_code not in task.all_clearance_codes:
            continue
        if task.code in clearance.restricted_from:
            uses.append(TaskUse(task.name, RESTRICTED))
            continue
        missing = [group for group in task.clearance_groups if not _covered(held, task, group, day)]
        if missing:
            uses.append(TaskUse(task.name, "Not yet: it also needs " + _needs(missing)))
        elif not task.unsupervised_allowed:
            uses.append(TaskUse(task.name, ALWAYS_SUPERVISED))
        else:
            alone = [g for g in task.unsupervised_clearance_groups if not _covered(held, task, g, day)]
            words = (
                f"Only with a supervising officer. On your own it also needs {_needs(alone)}" if alone else ON_YOUR_OWN
            )
            uses.append(TaskUse(task.name, words))
    return uses


def _covered(held: Sequence[ClearanceFact], task: TaskPolicy, group: tuple[str, ...], day: date) -> bool:
    # The matcher's test (vetting.rules): a clearance of an accepted type, in force, not restricted from the task.
    return any(
        fact.type_code in group
        and fact.state in ACTIVE_STATES
        and task.code not in fact.restricted_from
        and fact.valid_from <= day <= fact.expires_on
        for fact in held
    )


def _needs(groups: Sequence[tuple[str, ...]]) -> str:
    words = [text[0].lower() + text[1:] if text.startswith("One of") else text for text in describe_groups(groups)]
    return " and ".join(words)
