"""A small USSD menu engine: screens over a session kept in the cache.

Africa's Talking POSTs every step of a session with `text`, all inputs so far joined by
"*". The engine keeps the session's place (a stack of screens and their data) in the
cache under the session id, for `SESSION_SECONDS`, so any app node can answer the next
step (Redis when configured). The new input is what `text` adds to the text of the last
step; a step sent again (same `text`) gets the same answer and does nothing twice.
"0" goes back a screen, "00" to the main menu. Every reply starts "CON " or "END " and
fits `MAX_SCREEN` characters: values (names, descriptions) are clipped, and a screen
that would still be too long is shortened line by line.
"""

import hashlib
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils import translation

MAX_SCREEN = 182  # carriers cut longer USSD screens (shared/reference/kenya.md 2.2)
HINT_WIDTH = 40  # a hint is short: it shares the screen with the question it repeats
SESSION_SECONDS = 180  # a USSD session lasts about 180 s
# Far more than any menu needs: beyond it a session is a script, not a person. The
# setting `USSD_STEPS_PER_SESSION` overrides it.
MAX_STEPS = 40
BACK, HOME = "0", "00"
MAIN = "main"
FIRST_LANGUAGE = "first_language"

Data = dict[str, Any]


@dataclass(frozen=True)
class Hop:
    """One step of a session, as a screen sees it."""

    session_key: str
    phone: str
    language: str


@dataclass(frozen=True)
class Goto:
    """Show `screen` next. `home`: with the main menu under it (so "0" leads home, not
    back into a step already done); `root`: as the only screen."""

    screen: str
    data: Data = field(default_factory=dict)
    home: bool = False
    root: bool = False


@dataclass(frozen=True)
class Retry:
    """The input was not understood: show the same screen again under a short hint."""

    hint: str


@dataclass(frozen=True)
class End:
    text: str


Outcome = Goto | Retry | End


class Screen(Protocol):
    def render(self, hop: Hop, data: Data) -> str: ...

    def handle(self, hop: Hop, data: Data, answer: str) -> Outcome: ...


# --- Text that fits a phone ---------------------------------------------------------------


def plain(value: object) -> str:
    """ASCII only, one line: accents folded ("Wanjikũ" -> "Wanjiku"), the rest dropped.
    Many handsets show other characters as boxes, and they shorten what fits."""
    text = unicodedata.normalize("NFKD", str(value))
    text = text.encode("ascii", "ignore").decode("ascii")
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def clip(value: object, limit: int) -> str:
    text = plain(value)
    if len(text) <= limit:
        return text
    return text[: max(1, limit - 2)].rstrip() + ".."


def fit(text: str, room: int) -> str:
    """Shorten the longest lines until the screen fits `room` characters."""
    lines = [plain(line) for line in text.split("\n")]
    while len("\n".join(lines)) > room:
        longest = max(range(len(lines)), key=lambda index: len(lines[index]))
        excess = len("\n".join(lines)) - room
        line = lines[longest]
        if len(line) <= 10:
            return "\n".join(lines)[:room]
        lines[longest] = line[: max(6, len(line) - excess - 2)].rstrip() + ".."
    return "\n".join(lines)


def with_hint(hint: str, body: str) -> str:
    """The hint above the screen; where both do not fit, in place of the screen's title."""
    hint = clip(hint, HINT_WIDTH)
    combined = f"{hint}\n{body}"
    if len(combined) <= MAX_SCREEN - 4:
        return combined
    _title, _, rest = body.partition("\n")
    return f"{hint}\n{rest}" if rest else hint


def con(text: str) -> str:
    return "CON " + fit(text, MAX_SCREEN - 4)


def end(text: str) -> str:
    return "END " + fit(text, MAX_SCREEN - 4)


# --- Sessions ----------------------------------------------------------------------------


def max_steps() -> int:
    return int(getattr(settings, "USSD_STEPS_PER_SESSION", MAX_STEPS))


def is_open_session(session_id: str) -> bool:
    """Whether the engine already holds this session (a first step sent again is no new
    session)."""
    return cache.get(session_key(session_id)) is not None


def session_key(session_id: str) -> str:
    return "ussd:session:" + hashlib.sha256(session_id.encode()).hexdigest()[:40]


def new_input(previous_text: str, text: str) -> str:
    """What this step added: `text` minus the previous step's text and its "*"."""
    if previous_text and text.startswith(previous_text + "*"):
        return text[len(previous_text) + 1 :]
    if not previous_text:
        return text
    return text.rsplit("*", 1)[-1]


@dataclass
class Step:
    """The answer to one step, and what the log may say about it (no inputs: they can be
    PINs, ID numbers or phone numbers)."""

    reply: str
    screen: str
    outcome: str


class Engine:
    """Answers the steps of USSD sessions with `screens` (name -> screen)."""

    def __init__(
        self,
        screens: Mapping[str, Screen],
        *,
        language_of: Callable[[str], str | None],
        expired_text: Callable[[str], str],
    ) -> None:
        self.screens = screens
        self.language_of = language_of
        self.expired_text = expired_text

    def answer(self, *, session_id: str, phone: str, text: str) -> Step:
        key = session_key(session_id)
        state: dict[str, Any] | None = cache.get(key)
        if state is not None and state.get("phone") != phone:
            state = None  # another phone cannot continue this session
        if state is not None and text == state["text"]:
            return Step(state["reply"], state["stack"][-1][0], "repeat")
        if state is None:
            chosen = self.language_of(phone)
            if text:
                # Unknown or expired session (the cache lost it): start again, cleanly.
                return Step(end(self.expired_text(chosen or "en")), "-", "expired")
            first = MAIN if chosen else FIRST_LANGUAGE
            state = {"phone": phone, "language": chosen or "en", "stack": [[first, {}]]}
            reply = self._show(key, state)
            outcome = "start"
        elif state.get("steps", 0) >= max_steps():
            reply, outcome = end(self.expired_text(state["language"])), "too many steps"
        else:
            reply, outcome = self._step(key, state, new_input(state["text"], text))
        state["steps"] = state.get("steps", 0) + 1
        state["text"], state["reply"] = text, reply
        cache.set(key, state, SESSION_SECONDS)
        return Step(reply, state["stack"][-1][0], outcome)

    def _step(self, key: str, state: dict[str, Any], answer: str) -> tuple[str, str]:
        stack: list[list[Any]] = state["stack"]
        answer = answer.strip()
        if answer == HOME and stack[0][0] != FIRST_LANGUAGE:
            stack[:] = [[MAIN, {}]]
            return self._show(key, state), "home"
        if answer == BACK and len(stack) > 1:
            stack.pop()
            return self._show(key, state), "back"
        name, data = stack[-1]
        hop = Hop(session_key=key, phone=state["phone"], language=state["language"])
        with translation.override(hop.language):
            result = self.screens[name].handle(hop, data, answer)
            if isinstance(result, End):
                return end(result.text), "end"
            if isinstance(result, Retry):
                return con(with_hint(result.hint, self.screens[name].render(hop, data))), "retry"
        if result.root:
            stack[:] = [[result.screen, result.data]]
        elif result.home:
            stack[:] = [[MAIN, {}], [result.screen, result.data]]
        else:
            stack.append([result.screen, result.data])
        if result.data.get("_language"):
            state["language"] = result.data["_language"]
        return self._show(key, state), "next"

    def _show(self, key: str, state: dict[str, Any]) -> str:
        name, data = state["stack"][-1]
        hop = Hop(session_key=key, phone=state["phone"], language=state["language"])
        with translation.override(hop.language):
            return con(self.screens[name].render(hop, data))
