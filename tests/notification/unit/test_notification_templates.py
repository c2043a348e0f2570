from datetime import datetime, timezone

import jinja2
import pytest

from services.notification.domain.kinds import ChannelType, MessageKind
from services.notification.domain.rendering import (
    MissingContext,
    TemplateRenderer,
    normalize_lang,
    preview,
    render,
    required_context,
    sample_context,
)
from services.notification.domain.sms_length import LMS_MAX_BYTES, SMS_MAX_BYTES, fit_sms, sms_byte_length

ALL = [(k, c, lang) for k in MessageKind for c in ChannelType for lang in ("ko", "en")]


@pytest.mark.parametrize(("kind", "channel", "lang"), ALL, ids=lambda v: str(v))
def test_every_kind_channel_and_language_renders(kind, channel, lang):
    message = render(kind, channel, lang, sample_context(kind, lang))
    assert message.body and "{{" not in message.body and "{%" not in message.body
    assert "노동법 실무" in f"{message.subject} {message.body}"
    if channel is ChannelType.SMS:
        assert message.subject is None and message.sms_type in ("SMS", "LMS")
        assert message.byte_length == sms_byte_length(message.body) <= LMS_MAX_BYTES
        assert (message.sms_type == "SMS") == (message.byte_length <= SMS_MAX_BYTES)
    else:
        assert message.subject and "\n" not in message.subject
    if channel is ChannelType.EMAIL:
        assert message.html and message.html.startswith("<!DOCTYPE html>")
        assert ("님, 안녕하세요" in message.body) == (lang == "ko")


def test_korean_dates_are_shown_in_kst():
    context = sample_context(MessageKind.REMINDER)
    context["session_start"] = datetime(2019, 3, 4, 0, 0, tzinfo=timezone.utc)  # = 09:00 KST
    context["session_end"] = datetime(2019, 3, 4, 9, 0, tzinfo=timezone.utc)  # = 18:00 KST, same day
    body = render("reminder", "email", "ko", context).body
    assert "2019년 3월 4일(월) 09:00 ~ 18:00" in body
    en = render("reminder", "email", "en", {**context, "trainee_name": "Kim"}).body
    assert "Mon 4 Mar 2019, 09:00 KST ~ 18:00" in en


def test_missing_context_fails_loudly_before_rendering():
    context = sample_context(MessageKind.WAITLISTED)
    del context["waitlist_position"]
    with pytest.raises(MissingContext) as err:
        render("waitlisted", "email", "ko", context)
    assert err.value.missing == ["waitlist_position"]
    assert "survey_url" in required_context("survey_request")


def test_strict_undefined_inside_a_template(tmp_path):
    (tmp_path / "ko").mkdir()
    (tmp_path / "ko" / "reminder.inapp.j2").write_text(
        "{% block subject %}{{ course_name }}{% endblock %}{% block body %}{{ no_such_key }}{% endblock %}")
    with pytest.raises(jinja2.UndefinedError):
        TemplateRenderer(tmp_path).render("reminder", "inapp", "ko", sample_context("reminder"))


def test_html_is_autoescaped_but_text_is_not():
    context = {**sample_context("enrollment_confirmed"), "trainee_name": "<script>alert(1)</script>"}
    message = render("enrollment_confirmed", "email", "ko", context)
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    assert "<script>alert(1)</script> 님" in message.body


def test_optional_context_is_shown_only_when_given():
    without = render("cancelled", "email", "ko", sample_context("cancelled")).body
    with_reason = render("cancelled", "email", "ko", {**sample_context("cancelled"), "reason": "본인 요청"}).body
    assert "사유" not in without and "■ 사유: 본인 요청" in with_reason


def test_reminder_never_says_tomorrow():
    # D-1 may be sent on Thursday for a Monday course, so the wording must name the date.
    for lang in ("ko", "en"):
        for channel in ChannelType:
            body = render("reminder", channel, lang, sample_context("reminder", lang)).body
            assert "내일" not in body and "tomorrow" not in body.lower()


def test_language_normalisation_and_fallback():
    assert normalize_lang("en-US") == "en" and normalize_lang("ja") == "ko" and normalize_lang(None) == "ko"
    assert preview("promoted", "inapp", "fr").subject.startswith("대기")


def test_preview_uses_samples_overridden_by_given_context():
    message = preview("survey_request", "sms", "ko", {"survey_url": "https://s.example/x"})
    assert "https://s.example/x" in message.body
    assert preview("reminder", "email").to_dict()["subject"].startswith("[서울시 인재개발원]")


# --- SMS byte limits -------------------------------------------------------------------------------

def test_hangul_is_two_bytes_ascii_one():
    assert sms_byte_length("가나다") == 6 and sms_byte_length("abc") == 3 and sms_byte_length("가a") == 3


def test_sms_lms_boundary():
    assert fit_sms("가" * 45).sms_type == "SMS"  # 90 bytes
    assert fit_sms("가" * 44 + "a").sms_type == "SMS"  # 89 bytes
    assert fit_sms("가" * 45 + "a").sms_type == "LMS"  # 91 bytes
    assert fit_sms("가" * 1000).sms_type == "LMS" and not fit_sms("가" * 1000).truncated  # 2000 bytes


def test_over_lms_limit_is_cut_on_a_character_boundary_with_ellipsis():
    for text in ("가" * 1500, "a" + "가" * 1500, "가a" * 800):
        body = fit_sms(text)
        assert body.truncated and body.text.endswith("…")
        assert body.byte_length == sms_byte_length(body.text) <= LMS_MAX_BYTES
        assert body.byte_length >= LMS_MAX_BYTES - 2  # nothing wasted beyond one character
        body.text.encode("cp949")  # still valid CP949: no half syllable


def test_characters_outside_cp949_are_counted_conservatively():
    assert sms_byte_length("🙂") == 2 and fit_sms("🙂" * 46).sms_type == "LMS"


def test_long_rendered_sms_becomes_lms_and_huge_one_is_truncated():
    context = sample_context("reminder")
    short = render("reminder", "sms", "ko", context)
    assert short.sms_type == "SMS" and "3/4(월) 09:00" in short.body  # short date keeps it a cheap SMS
    longer = render("reminder", "sms", "ko", {**context, "location": "서울특별시 인재개발원 신관 2층 대강당(서초구 양재동)"})
    assert longer.sms_type == "LMS" and longer.byte_length > 90 and not longer.truncated
    huge = render("reminder", "sms", "ko", {**context, "location": "본관 " * 900})
    assert huge.truncated and huge.byte_length <= LMS_MAX_BYTES and huge.body.endswith("…")
