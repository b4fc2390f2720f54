"""Writing policies from what processes did: learn mode and suggest (docs/learning.md).

    generalise  observations -> permit rules (pure)
    text        rules -> policy text, or merged into an existing policy (pure)
    observer    learn events -> observations per executable
    files       observations -> checked policy files in a directory
    denials     suggest's input: audit denials from event logs or the journal

cli/learn.py holds the commands (learn, suggest); cli/run.py and learn/watch.py use
the same pieces.
"""

from .files import Written, existing_policies, write_policies
from .generalise import LearnedRule, generalise, glob_escape, re_escape
from .observer import Observer
from .text import MergeResult, header, merge_text, new_observations, policy_filename, policy_text

__all__ = [
    "LearnedRule",
    "MergeResult",
    "Observer",
    "Written",
    "existing_policies",
    "generalise",
    "glob_escape",
    "header",
    "merge_text",
    "new_observations",
    "policy_filename",
    "policy_text",
    "re_escape",
    "write_policies",
]
