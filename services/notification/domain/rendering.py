"""Render a message kind for a channel and language from the Jinja2 templates.

Layout of services/notification/templates/:
  <lang>/<kind>.email.j2       blocks `subject` and `body` (plain text)
  <lang>/<kind>.email.html.j2  optional HTML override; otherwise _layouts/email.html.j2 wraps the
                               text body (autoescaped, so trainee data can never inject markup)
  <lang>/<kind>.sms.j2         block `body`; classified SMS/LMS by CP949 bytes, cut past 2,000
  <lang>/<kind>.inapp.j2       blocks `subject` (inbox title) and `body`
  <lang>/_footer.email.j2      shared e-mail footer
Languages: 'ko' (default, and the fallback for anything unknown) and 'en'.

Jinja2 is used here (not forbidden in the domain) because templates are message content; the
environment uses StrictUndefined, so a missing context value raises instead of rendering blank.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, pass_context

from .delivery import SmsType
from .formatting import format_date, format_datetime, format_short_date, format_short_datetime, format_time
from .kinds import ChannelType, MessageKind
from .kst import KST
from .sms_length import fit_sms

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES: tuple[str, ...] = ("ko", "en")
DEFAULT_LANG = "ko"

# Context every kind needs, plus each kind's own keys. Optional keys (templates test them with
# `is defined`): `reason` for cancelled/session_cancelled, `progress_percent` for the nudge,
# `survey_deadline` for the survey.
COMMON_CONTEXT: tuple[str, ...] = (
    "trainee_name", "course_name", "session_start", "session_end", "location", "portal_url",
)
KIND_CONTEXT: dict[MessageKind, tuple[str, ...]] = {
    MessageKind.ENROLLMENT_CONFIRMED: (),
    MessageKind.WAITLISTED: ("waitlist_position",),
    MessageKind.PROMOTED: (),
    MessageKind.CANCELLED: (),
    MessageKind.SESSION_CANCELLED: (),
    MessageKind.SESSION_RESCHEDULED: ("previous_start", "previous_end"),
    MessageKind.REMINDER: (),
    MessageKind.PREREQUISITE_NUDGE: ("prerequisite_name", "prerequisite_deadline"),
    MessageKind.SURVEY_REQUEST: ("survey_url",),
}


class MissingContext(ValueError):
    def __init__(self, kind: MessageKind, missing: list[str]):
        super().__init__(f"{kind}: missing context {', '.join(missing)}")
        self.kind = kind
        self.missing = missing


@dataclass(frozen=True)
class RenderedMessage:
    subject: str | None  # e-mail subject / in-app title; None for SMS
    body: str
    html: str | None = None  # e-mail only
    sms_type: SmsType | None = None  # SMS only: 'SMS' (<= 90 bytes) or 'LMS'
    byte_length: int | None = None  # SMS only, CP949 bytes
    truncated: bool = False  # SMS only: cut to the LMS limit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def required_context(kind: MessageKind | str) -> tuple[str, ...]:
    return COMMON_CONTEXT + KIND_CONTEXT[MessageKind(kind)]


def normalize_lang(lang: str | None) -> str:
    """'en-US' -> 'en'; None or unsupported -> 'ko' (Korean first)."""
    base = (lang or DEFAULT_LANG).split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANG


class TemplateRenderer:
    def __init__(self, template_dir: Path = TEMPLATE_DIR, *, auto_reload: bool = False):
        self.env = Environment(
            loader=FileSystemLoader(str(template_dir)),
            undefined=StrictUndefined,
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,  # partials end with a newline that {% include %} must keep
            auto_reload=auto_reload,  # off by default: no stat() per render on a 200k-mail run
        )
        self.env.filters.update(kst_date=_kst_date, kst_datetime=_kst_datetime, kst_time=_kst_time,
                                kst_period=_kst_period, kst_short_date=_kst_short_date,
                                kst_short_datetime=_kst_short_datetime)

    def render(
        self, kind: MessageKind | str, channel: ChannelType | str, lang: str, context: Mapping[str, Any]
    ) -> RenderedMessage:
        kind, channel, lang = MessageKind(kind), ChannelType(channel), normalize_lang(lang)
        missing = [k for k in required_context(kind) if k not in context]
        if missing:
            raise MissingContext(kind, missing)
        variables = {**context, "lang": lang, "kind": str(kind)}
        template = self.env.get_template(f"{lang}/{kind}.{channel}.j2")
        blocks = {name: _clean(self._block(template, name, variables)) for name in template.blocks}
        if channel is ChannelType.SMS:
            sms = fit_sms(blocks["body"])
            return RenderedMessage(None, sms.text, sms_type=sms.sms_type, byte_length=sms.byte_length,
                                   truncated=sms.truncated)
        subject = " ".join(blocks["subject"].split())
        if channel is ChannelType.INAPP:
            return RenderedMessage(subject, blocks["body"])
        html = self._render_html(kind, lang, variables, subject, blocks["body"])
        return RenderedMessage(subject, blocks["body"], html=html)

    def _render_html(self, kind: MessageKind, lang: str, variables: dict[str, Any], subject: str, body: str) -> str:
        try:
            template = self.env.get_template(f"{lang}/{kind}.email.html.j2")
        except TemplateNotFound:
            template = self.env.get_template("_layouts/email.html.j2")
        paragraphs = [p.split("\n") for p in body.split("\n\n")]
        return template.render(**variables, subject=subject, paragraphs=paragraphs)

    @staticmethod
    def _block(template: Any, name: str, variables: dict[str, Any]) -> str:
        return "".join(template.blocks[name](template.new_context(variables)))


_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def _clean(text: str) -> str:
    return _MANY_BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("\n", text)).strip()


@pass_context
def _kst_date(ctx: Any, value: date | datetime) -> str:
    return format_date(value, ctx["lang"])


@pass_context
def _kst_datetime(ctx: Any, value: datetime) -> str:
    return format_datetime(value, ctx["lang"])


@pass_context
def _kst_short_date(ctx: Any, value: date | datetime) -> str:
    return format_short_date(value, ctx["lang"])


@pass_context
def _kst_short_datetime(ctx: Any, value: datetime) -> str:
    return format_short_datetime(value, ctx["lang"])


def _kst_time(value: datetime) -> str:
    return format_time(value)


@pass_context
def _kst_period(ctx: Any, start: datetime, end: datetime) -> str:
    """Same KST day: '2019년 3월 4일(월) 09:00 ~ 18:00'; else both ends in full."""
    lang = ctx["lang"]
    if start.astimezone(KST).date() == end.astimezone(KST).date():
        return f"{format_datetime(start, lang)} ~ {format_time(end)}"
    return f"{format_datetime(start, lang)} ~ {format_datetime(end, lang)}"


_default_renderer: TemplateRenderer | None = None


def default_renderer() -> TemplateRenderer:
    global _default_renderer
    if _default_renderer is None:
        _default_renderer = TemplateRenderer()
    return _default_renderer


def render(kind: MessageKind | str, channel: ChannelType | str, lang: str, context: Mapping[str, Any]) -> RenderedMessage:
    return default_renderer().render(kind, channel, lang, context)


def sample_context(kind: MessageKind | str, lang: str = DEFAULT_LANG) -> dict[str, Any]:
    """Realistic example values (a 2019 course) for previews and template tests."""
    kind = MessageKind(kind)
    start = datetime(2019, 3, 4, 9, 0, tzinfo=KST)
    en = normalize_lang(lang) == "en"
    context: dict[str, Any] = {
        "trainee_name": "Hong Gildong" if en else "홍길동",
        "course_name": "노동법 실무",
        "session_start": start,
        "session_end": datetime(2019, 3, 5, 18, 0, tzinfo=KST),
        "location": "Seoul HRD Center, Room 301" if en else "서울시 인재개발원 본관 301호",
        "portal_url": "https://hrd.seoul.go.kr",
    }
    extras: dict[MessageKind, dict[str, Any]] = {
        MessageKind.WAITLISTED: {"waitlist_position": 3},
        MessageKind.SESSION_RESCHEDULED: {
            "previous_start": datetime(2019, 2, 25, 9, 0, tzinfo=KST),
            "previous_end": datetime(2019, 2, 26, 18, 0, tzinfo=KST),
        },
        MessageKind.PREREQUISITE_NUDGE: {
            "prerequisite_name": "e-노동법 기초",
            "prerequisite_deadline": date(2019, 3, 1),
            "progress_percent": 40,
        },
        MessageKind.SURVEY_REQUEST: {
            "survey_url": "https://hrd.seoul.go.kr/survey/2019-0304",
            "survey_deadline": date(2019, 3, 12),
        },
    }
    context.update(extras.get(kind, {}))
    return context


def preview(
    kind: MessageKind | str,
    channel: ChannelType | str,
    lang: str = DEFAULT_LANG,
    context: Mapping[str, Any] | None = None,
) -> RenderedMessage:
    """Render with sample values, overridden by whatever `context` provides (for the preview API).
    Raises MissingContext / jinja2.TemplateError / ValueError on bad input (map them to 400)."""
    return render(kind, channel, lang, {**sample_context(kind, lang), **(context or {})})
