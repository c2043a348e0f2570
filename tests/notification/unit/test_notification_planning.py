from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import pytest

from services.notification.domain.business_days import KR_CALENDAR, BusinessCalendar
from services.notification.domain.kinds import MessageKind
from services.notification.domain.kst import KST
from services.notification.domain.occurrence import ONCE, event_occurrence, offset_days, offset_label
from services.notification.domain.planning import (
    PlannedMessage,
    diff_plans,
    plan_prerequisite_nudges,
    plan_reminders,
    plan_session_messages,
    plan_survey_request,
)

EARLY = datetime(2019, 1, 2, 12, 0, tzinfo=KST)  # long before every session below


def kst(y, m, d, hh=9, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=KST)


def dues(plan):
    return [(p.occurrence.split("@")[0], p.due_at) for p in plan]


# --- reminders -----------------------------------------------------------------------------------

def test_default_reminders_are_d7_and_d1_at_0900_kst_and_timezone_aware():
    plan = plan_reminders(date(2019, 3, 13), now=EARLY)  # Wednesday, plain week
    assert dues(plan) == [("D-7", kst(2019, 3, 6)), ("D-1", kst(2019, 3, 12))]
    assert all(p.kind is MessageKind.REMINDER and p.due_at.utcoffset() == timedelta(hours=9) for p in plan)


def test_weekend_due_day_moves_to_previous_friday():
    plan = plan_reminders(date(2019, 3, 11), now=EARLY)  # Monday: D-1 is a Sunday
    assert dues(plan) == [("D-7", kst(2019, 3, 4)), ("D-1", kst(2019, 3, 8))]


def test_samiljeol_holiday_pushes_d1_back_to_thursday():
    # Mon 2019-03-04: D-1 Sun 03-03 -> Sat 03-02 -> Fri 03-01 (삼일절) -> Thu 02-28.
    plan = plan_reminders(date(2019, 3, 4), now=EARLY)
    assert dues(plan) == [("D-7", kst(2019, 2, 25)), ("D-1", kst(2019, 2, 28))]


def test_chuseok_2019_skips_the_whole_holiday_block():
    # Mon 2019-09-16: D-1 Sun 15 -> Sat 14, Fri 13, Thu 12 are 추석 -> Wed 09-11.
    assert KR_CALENDAR.holiday_name(date(2019, 9, 13))
    plan = plan_reminders(date(2019, 9, 16), now=EARLY)
    assert dues(plan) == [("D-7", kst(2019, 9, 9)), ("D-1", kst(2019, 9, 11))]


def test_substitute_holiday_counts_as_a_holiday():
    # Tue 2019-05-07: D-1 is Mon 05-06, the substitute holiday for Children's Day -> Fri 05-03.
    plan = plan_reminders(date(2019, 5, 7), now=EARLY)
    assert dues(plan)[-1] == ("D-1", kst(2019, 5, 3))


def test_enrollment_after_d7_still_gets_d1_but_not_a_late_d7():
    now = kst(2019, 3, 6, 10, 0)  # D-7 was 09:00 today
    assert dues(plan_reminders(date(2019, 3, 13), now=now)) == [("D-1", kst(2019, 3, 12))]


def test_due_exactly_now_counts_as_past_one_minute_before_does_not():
    assert dues(plan_reminders(date(2019, 3, 13), now=kst(2019, 3, 6, 9, 0)))[0][0] == "D-1"
    assert dues(plan_reminders(date(2019, 3, 13), now=kst(2019, 3, 6, 8, 59)))[0][0] == "D-7"


def test_nothing_left_after_d1_has_passed():
    assert plan_reminders(date(2019, 3, 13), now=kst(2019, 3, 12, 9, 1)) == []


def test_reminder_at_or_after_session_start_is_dropped():
    assert plan_reminders(kst(2019, 3, 13, 9, 0), now=EARLY, offsets=(0,)) == []
    assert dues(plan_reminders(kst(2019, 3, 13, 14, 0), now=EARLY, offsets=(0,))) == [("D-0", kst(2019, 3, 13))]


def test_session_start_given_in_utc_uses_the_seoul_calendar_day():
    # 2019-03-12 23:00 UTC is Wed 2019-03-13 08:00 in Seoul.
    plan = plan_reminders(datetime(2019, 3, 12, 23, 0, tzinfo=timezone.utc), now=EARLY)
    assert plan[-1].occurrence == "D-1@2019-03-13"


def test_per_course_offsets_and_send_time():
    plan = plan_reminders(date(2019, 3, 13), now=EARLY, offsets=(3,), send_time=time(8, 30))
    assert dues(plan) == [("D-3", kst(2019, 3, 8, 8, 30))]  # Sun 03-10 -> Fri 03-08


def test_offsets_colliding_after_the_shift_keep_only_the_nearer_one():
    plan = plan_reminders(date(2019, 3, 11), now=EARLY, offsets=(2, 1))  # Sat and Sun -> both Fri
    assert dues(plan) == [("D-1", kst(2019, 3, 8))]


def test_invalid_inputs_fail_loudly():
    with pytest.raises(ValueError):
        plan_reminders(date(2019, 3, 13), now=datetime(2019, 1, 2))  # naive now
    with pytest.raises(ValueError):
        plan_reminders(date(2019, 3, 13), now=EARLY, offsets=(-1,))
    with pytest.raises(ValueError):
        plan_reminders(datetime(2019, 3, 13, 9), now=EARLY)  # naive session start


def test_extra_closed_days_are_respected():
    calendar = BusinessCalendar(extra_closed=frozenset({date(2019, 3, 12)}))
    plan = plan_reminders(date(2019, 3, 13), now=EARLY, calendar=calendar)
    assert dues(plan)[-1] == ("D-1", kst(2019, 3, 11))


# --- nudges and survey ---------------------------------------------------------------------------

def test_prerequisite_nudges_d14_and_d5_business_day_aware():
    # Deadline Fri 2019-03-15: D-14 Fri 03-01 (삼일절) -> Thu 02-28; D-5 Sun 03-10 -> Fri 03-08.
    plan = plan_prerequisite_nudges(date(2019, 3, 15), now=EARLY)
    assert [(p.kind, p.occurrence, p.due_at) for p in plan] == [
        (MessageKind.PREREQUISITE_NUDGE, "D-14@2019-03-15", kst(2019, 2, 28)),
        (MessageKind.PREREQUISITE_NUDGE, "D-5@2019-03-15", kst(2019, 3, 8)),
    ]


def test_no_nudges_once_prerequisite_completed():
    assert plan_prerequisite_nudges(date(2019, 3, 15), now=EARLY, completed=True) == []


def test_survey_is_next_business_day_at_1000():
    plan = plan_survey_request(kst(2019, 9, 6, 18, 0), now=EARLY)  # Friday
    assert [(p.kind, p.occurrence, p.due_at) for p in plan] == [
        (MessageKind.SURVEY_REQUEST, "D+1@2019-09-06", kst(2019, 9, 9, 10, 0))
    ]
    # Ends Wed 2019-09-11: Thu-Sat is 추석, Sun -> Monday 09-16.
    assert plan_survey_request(date(2019, 9, 11), now=EARLY)[0].due_at == kst(2019, 9, 16, 10, 0)


def test_late_survey_is_kept_with_its_due_time_inside_the_window_and_dropped_after():
    late = plan_survey_request(date(2019, 9, 6), now=kst(2019, 9, 10, 12, 0))
    assert late and late[0].due_at == kst(2019, 9, 9, 10, 0)  # stable due_at: re-planning is a no-op
    assert plan_survey_request(date(2019, 9, 6), now=kst(2019, 9, 30)) == []


def test_session_plan_combines_reminders_and_survey_sorted():
    plan = plan_session_messages(kst(2019, 3, 13), kst(2019, 3, 14, 18), now=EARLY)
    assert [p.kind for p in plan] == [MessageKind.REMINDER, MessageKind.REMINDER, MessageKind.SURVEY_REQUEST]
    assert plan == sorted(plan)


# --- occurrences -----------------------------------------------------------------------------------

def test_occurrence_helpers():
    assert event_occurrence(MessageKind.ENROLLMENT_CONFIRMED) == ONCE
    assert event_occurrence("session_rescheduled", new_start=datetime(2019, 3, 4, 0, 0, tzinfo=timezone.utc)) == "to@2019-03-04T09:00"
    with pytest.raises(ValueError):
        event_occurrence(MessageKind.REMINDER)
    assert offset_label("D-7@2019-03-04") == "D-7"
    assert offset_days("D-14@2019-03-15") == 14 and offset_days("D+1@2019-03-05") == 1 and offset_days("once") is None


# --- re-planning diff ------------------------------------------------------------------------------

@dataclass
class Row:  # shaped like a DB row
    id: int
    kind: str
    occurrence: str
    due_at: datetime


def rows_for(plan, start_id=1):
    return [Row(start_id + i, str(p.kind), p.occurrence, p.due_at) for i, p in enumerate(plan)]


def test_replanning_the_same_session_changes_nothing():
    plan = plan_session_messages(kst(2019, 3, 13), kst(2019, 3, 14, 18), now=EARLY)
    diff = diff_plans(rows_for(plan), plan)
    assert diff.unchanged and len(diff.keep) == 3


def test_rescheduled_session_withdraws_old_rows_and_adds_new_ones():
    old = rows_for(plan_session_messages(kst(2019, 3, 13), kst(2019, 3, 14, 18), now=EARLY))
    now = kst(2019, 3, 12, 10, 0)  # old D-7 and D-1 already went out; session moves to Mon 2019-03-18
    new = plan_session_messages(kst(2019, 3, 18), kst(2019, 3, 19, 18), now=now)
    diff = diff_plans(old, new)
    assert {r.occurrence for r in diff.withdraw} == {"D-7@2019-03-13", "D-1@2019-03-13", "D+1@2019-03-14"}
    assert [(p.occurrence, p.due_at) for p in diff.add] == [
        ("D-1@2019-03-18", kst(2019, 3, 15)),  # D-7 of the new date (03-11) is already past
        ("D+1@2019-03-19", kst(2019, 3, 20, 10)),
    ]
    assert diff.keep == []


def test_changed_send_time_with_same_key_is_withdrawn_and_re_added():
    old = rows_for(plan_reminders(date(2019, 3, 13), now=EARLY))
    new = plan_reminders(date(2019, 3, 13), now=EARLY, send_time=time(10, 0))
    diff = diff_plans(old, new)
    assert len(diff.withdraw) == 2 and [p.due_at.hour for p in diff.add] == [10, 10]


def test_cancellation_withdraws_everything():
    old = rows_for(plan_session_messages(kst(2019, 3, 13), kst(2019, 3, 14, 18), now=EARLY))
    diff = diff_plans(old, [])
    assert diff.withdraw == old and diff.add == []


def test_completed_prerequisite_withdraws_only_nudges():
    reminders = rows_for(plan_reminders(date(2019, 3, 18), now=EARLY))
    nudges = rows_for(plan_prerequisite_nudges(date(2019, 3, 15), now=EARLY), start_id=10)
    diff = diff_plans(reminders + nudges, plan_prerequisite_nudges(date(2019, 3, 15), now=EARLY, completed=True),
                      kinds={MessageKind.PREREQUISITE_NUDGE})
    assert diff.withdraw == nudges and diff.keep == [] and diff.add == []


def test_diff_rejects_desired_rows_outside_its_scope():
    with pytest.raises(ValueError):
        diff_plans([], plan_reminders(date(2019, 3, 13), now=EARLY), kinds={"prerequisite_nudge"})


def test_naive_db_datetimes_are_read_as_utc():
    plan = plan_reminders(date(2019, 3, 13), now=EARLY)
    naive_utc = [Row(i, str(p.kind), p.occurrence, p.due_at.astimezone(timezone.utc).replace(tzinfo=None))
                 for i, p in enumerate(plan)]
    assert diff_plans(naive_utc, plan).unchanged


def test_duplicate_existing_rows_keep_one_and_withdraw_the_rest():
    plan = plan_reminders(date(2019, 3, 13), now=EARLY)
    rows = rows_for(plan) + rows_for(plan[:1], start_id=99)
    diff = diff_plans(rows, plan)
    assert [r.id for r in diff.withdraw] == [99] and diff.add == []


def test_planned_message_key():
    p = PlannedMessage(kst(2019, 3, 6), MessageKind.REMINDER, "D-7@2019-03-13")
    assert p.key == ("reminder", "D-7@2019-03-13")
