"""The family's children in Redis, the one place every part reads them from on each call,
so a child added, renamed or given a camera is seen at once, without a restart.

    cradle:family:children   hash: child id -> Child JSON
    cradle:family:order      list of child ids: the first is the default child

An empty store is seeded from the settings the family started with (`family.children`,
and each camera's `child` in `camera.cameras`, or the demo camera's). Every change is
checked against the whole family in one optimistic transaction (WATCH): names and
nicknames are unique without case or accents, a camera named is a configured one and
watches one child (naming it for a child takes it from another), and the last child
stays.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import redis
from pydantic import ValidationError

from services.family.model import (
    Child,
    DuplicateName,
    FamilyError,
    LastChild,
    Pronoun,
    UnknownCamera,
    UnknownChildError,
)
from services.family.names import best_match, fold, mentioned, slug
from services.settings import Settings

log = logging.getLogger(__name__)
CHILDREN_KEY = "cradle:family:children"
ORDER_KEY = "cradle:family:order"
STORED = {"stored": True}
UNSET: Any = object()  # an edit leaves a field it is not given as it was


def configured_cameras(settings: Settings) -> dict[str, str]:
    """Each configured camera's name and the child its settings bind it to; the demo camera
    when none is configured and camera.demo is on."""
    cameras = {camera.name: camera.child for camera in settings.camera.cameras}
    if not cameras and settings.camera.demo:
        # Imported here: the demo module draws clips (av, numpy), which readers of the family do not need.
        from services.camera.demo import CAMERA_NAME, CHILD
        cameras[CAMERA_NAME] = CHILD
    return cameras


def invalid(exc: ValidationError) -> FamilyError:
    """A validation error as one sentence: "born: born 2031-01-01 is in the future"."""
    said = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        said.append(f"{where}: {str(error['msg']).removeprefix('Value error, ')}")
    return FamilyError("; ".join(said))


class FamilyStore:
    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.client, self.settings = client, settings

    # Reading.

    def children(self) -> list[Child]:
        """The children, the default one first; seeds an empty store from the settings."""
        found = self._read(self.client)
        return found if found else self._seed()

    def match(self, said: str) -> Child | None:
        """The child people mean by `said` (a name, a nickname, "Mia's", a close misspelling),
        or None when it is no one's name in the family."""
        return best_match(said, self._names(self.children()))

    def mentioned(self, text: str) -> Child | None:
        """The child a whole message names word for word (name or nickname), or None."""
        return mentioned(text, self._names(self.children()))

    def find(self, named: str) -> Child | None:
        """The child `named` means: their id, else as people say it (see `match`)."""
        children = self.children()
        return next((c for c in children if c.id == named), None) or best_match(named, self._names(children))

    def get(self, named: str) -> Child:
        """The child called `named` (see `find`); UnknownChildError names the ones there are."""
        child = self.find(named)
        if child is None:
            known = ", ".join(c.name for c in self.children())
            raise UnknownChildError(f"no child called {named!r} (the family has {known})")
        return child

    def names(self) -> dict[str, str]:
        """Each child's id and the name Cradle says."""
        return {child.id: child.name for child in self.children()}

    def camera_children(self) -> dict[str, str]:
        """Each camera the family bound and the id of the child it watches."""
        return {camera: child.id for child in self.children() for camera in child.cameras}

    def cameras(self) -> list[str]:
        """The cameras a child may be given: the configured ones (or the demo camera)."""
        return sorted(configured_cameras(self.settings))

    # Changing.

    def add(self, name: str, *, born: date | None, pronoun: Pronoun = "they",
            nicknames: Sequence[str] = (), cameras: Sequence[str] = ()) -> Child:
        """A new child (the last in order); raises FamilyError (DuplicateName, UnknownCamera)."""
        self.children()  # seeded first: the settings' child is the family's until removed

        def change(family: list[Child]) -> tuple[list[Child], Child]:
            taken = {child.id for child in family}
            base = slug(name) or "child"
            new_id = next(f"{base}-{n}" if n else base for n in range(len(taken) + 1)
                          if (f"{base}-{n}" if n else base) not in taken)
            child = self._valid(id=new_id, name=name, nicknames=tuple(nicknames), pronoun=pronoun,
                                born=born, cameras=tuple(cameras))
            return [*family, child], child

        return self._change(change)

    def edit(self, named: str, *, name: str = UNSET, born: date | None = UNSET, pronoun: Pronoun = UNSET,
             nicknames: Sequence[str] = UNSET, cameras: Sequence[str] = UNSET) -> Child:
        """Change what is given of the child called `named`; lists given replace the old ones."""
        wanted = self.get(named).id
        given: dict[str, Any] = {"name": name, "born": born, "pronoun": pronoun,
                                 "nicknames": nicknames, "cameras": cameras}
        changes = {field: tuple(value) if field in ("nicknames", "cameras") else value
                   for field, value in given.items() if value is not UNSET}

        def change(family: list[Child]) -> tuple[list[Child], Child]:
            old = next((c for c in family if c.id == wanted), None)
            if old is None:
                raise UnknownChildError(f"no child called {named!r} any more")
            child = self._valid(**{**old.model_dump(), **changes})
            return [child if c.id == wanted else c for c in family], child

        return self._change(change, cameras_given="cameras" in changes)

    def remove(self, named: str) -> Child:
        """Take the child called `named` out of the family; LastChild for the only one."""
        wanted = self.get(named).id

        def change(family: list[Child]) -> tuple[list[Child], Child]:
            gone = next((c for c in family if c.id == wanted), None)
            if gone is None:
                raise UnknownChildError(f"no child called {named!r} any more")
            if len(family) == 1:
                raise LastChild(f"{gone.name} is the family's only child: add another before "
                                "removing them")
            return [c for c in family if c.id != wanted], gone

        return self._change(change)

    # Inside.

    @staticmethod
    def _names(children: Iterable[Child]) -> dict[str, Child]:
        return {name: child for child in reversed(list(children)) for name in child.names}

    @staticmethod
    def _valid(**fields: Any) -> Child:
        try:
            return Child(**fields)
        except ValidationError as exc:
            raise invalid(exc) from exc

    def _read(self, client: redis.Redis) -> list[Child]:
        order, stored = client.lrange(ORDER_KEY, 0, -1), client.hgetall(CHILDREN_KEY)
        ids = [str(i) for i in order if i in stored] + sorted(str(i) for i in stored if i not in order)
        return [Child.model_validate_json(stored[i], context=STORED) for i in ids]

    def _checked(self, family: list[Child], changed: Child, cameras_given: bool) -> None:
        """The family after a change to `changed`: names unique, the cameras given configured
        (a camera since taken out of the settings does not block an edit of the name)."""
        for other in family:
            if other.id == changed.id:
                continue
            shared = set(other.names) & set(changed.names)
            if shared:
                raise DuplicateName(f"{other.name} is already called {', '.join(sorted(shared))}: "
                                    "each name and nickname belongs to one child")
        known = configured_cameras(self.settings)
        unknown = [camera for camera in changed.cameras if cameras_given and camera not in known]
        if unknown:
            listed = ", ".join(sorted(known)) or "none (add one to camera.cameras)"
            raise UnknownCamera(f"no camera called {', '.join(unknown)} (the cameras: {listed})")

    def _change(self, change: Any, cameras_given: bool = True) -> Child:
        """Apply `change(family) -> (family, child)` atomically and return the child."""
        with self.client.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(CHILDREN_KEY, ORDER_KEY)
                    family, child = change(self._read(pipe))
                    if child in family:
                        self._checked(family, child, cameras_given)
                        # A camera watches one child: naming it here takes it from the others.
                        family = [c if c.id == child.id or not set(c.cameras) & set(child.cameras)
                                  else c.model_copy(update={"cameras": tuple(x for x in c.cameras
                                                                              if x not in child.cameras)})
                                  for c in family]
                    pipe.multi()
                    self._write(pipe, family)
                    pipe.execute()
                    return child
                except redis.WatchError:
                    continue

    @staticmethod
    def _write(pipe: Any, family: list[Child]) -> None:
        pipe.delete(CHILDREN_KEY, ORDER_KEY)
        pipe.hset(CHILDREN_KEY, mapping={child.id: child.model_dump_json() for child in family})
        pipe.rpush(ORDER_KEY, *[child.id for child in family])

    def _seed(self) -> list[Child]:
        """The settings' children and camera bindings, written when the store is empty."""
        family = self._from_settings()
        with self.client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(CHILDREN_KEY)
                if pipe.hlen(CHILDREN_KEY):
                    pipe.unwatch()
                    return self._read(self.client)
                pipe.multi()
                self._write(pipe, family)
                pipe.execute()
            except redis.WatchError:  # another process seeded it first
                return self._read(self.client)
        log.info("family seeded from the settings: %s", ", ".join(c.name for c in family))
        return family

    def _from_settings(self) -> list[Child]:
        bound: dict[str, list[str]] = {}
        ids = [child.id for child in self.settings.family.children]
        for camera, child_id in configured_cameras(self.settings).items():
            owner = child_id if child_id in ids else next((i for i in ids if fold(i) == fold(child_id)), None)
            if owner is not None:
                bound.setdefault(owner, []).append(camera)
        family = []
        for n, child in enumerate(self.settings.family.children):
            try:
                family.append(Child(id=child.id, name=child.spoken_name, pronoun=child.pronoun,
                                    born=child.born, cameras=tuple(bound.get(child.id, ()))))
            except ValidationError as exc:
                raise FamilyError(f"family.children[{n}] in the settings: {invalid(exc)}") from exc
        return family
