"""The family's children, set up by the family (the `cradle family` command and the Family
screen) and read by every part on each call: the chatbot, the gateway, the alerts, the
games' default age and the cameras' binding.

    model.py   a Child (name, nicknames, pronoun, birth date, cameras) and the errors
    names.py   names folded the way people say them, and matching a said name to a child
    store.py   the Redis store, seeded from the settings when empty
"""

from __future__ import annotations

from services.family.model import (
    Child,
    DuplicateName,
    FamilyError,
    LastChild,
    Pronoun,
    UnknownCamera,
    UnknownChildError,
    check_born,
    check_name,
)
from services.family.names import fold
from services.family.store import CHILDREN_KEY, UNSET, FamilyStore, configured_cameras

__all__ = ["CHILDREN_KEY", "UNSET", "Child", "DuplicateName", "FamilyError", "FamilyStore", "LastChild",
           "Pronoun", "UnknownCamera", "UnknownChildError", "check_born", "check_name",
           "configured_cameras", "fold"]
