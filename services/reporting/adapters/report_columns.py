"""Column specs (Korean + English headers) of the reporting service's downloadable reports.

Keys match the ``as_row()``/``as_rows()`` of the domain objects, so a view can do
``iter_export(fmt, TRAINING_SUMMARY_COLUMNS, summary.as_rows())``.
"""

from __future__ import annotations

from .export import ColumnSpec

_N = "#,##0"
_P = "0.0"

TRAINING_SUMMARY_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("year", "연도", "Year"),
    ColumnSpec("label_ko", "구분", "Delivery"),
    ColumnSpec("courses", "과정 수", "Courses", _N),
    ColumnSpec("seats", "인원(명)", "Seats", _N),
    ColumnSpec("sessions", "회차", "Sessions", _N),
    ColumnSpec("previous_year", "전년도", "Previous year"),
    ColumnSpec("previous_courses", "전년 과정 수", "Previous courses", _N),
    ColumnSpec("previous_seats", "전년 인원(명)", "Previous seats", _N),
    ColumnSpec("change_courses", "증감 과정 수", "Change in courses", _N),
    ColumnSpec("change_seats", "증감 인원(명)", "Change in seats", _N),
)

CHANGE_TYPE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("year", "연도", "Year"),
    ColumnSpec("label_ko", "개편 유형", "Change type"),
    ColumnSpec("classroom", "집합", "Classroom", _N),
    ColumnSpec("elearning", "e-러닝", "E-learning", _N),
    ColumnSpec("total", "계", "Total", _N),
)

PLAN_VS_ACTUAL_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("year", "연도", "Year"),
    ColumnSpec("key", "코드", "Key"),
    ColumnSpec("label", "구분", "Label"),
    ColumnSpec("planned", "계획(명)", "Planned", _N),
    ColumnSpec("actual", "실적(명)", "Actual", _N),
    ColumnSpec("achievement_rate", "달성률(%)", "Achievement (%)", _P),
    ColumnSpec("enrolled", "수강확정(명)", "Enrolled", _N),
    ColumnSpec("completed", "수료(명)", "Completed", _N),
    ColumnSpec("reference_planned", "계획서 계획(명)", "Plan document: planned", _N),
    ColumnSpec("reference_actual", "계획서 실적(명)", "Plan document: actual", _N),
    ColumnSpec("source", "출처", "Source"),
)

# Counter columns of any read-model row (course, session, organisation type, …); keys match
# ``CounterTotals.as_row()``. Prepend the row's own key columns, e.g. course code and name.
COUNTER_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("planned_seats", "계획 인원", "Planned seats", _N),
    ColumnSpec("enrollments", "신청 건수", "Enrollments", _N),
    ColumnSpec("requested", "신청 처리중", "Requested", _N),
    ColumnSpec("pending_prerequisite", "선수학습 대기", "Pending prerequisite", _N),
    ColumnSpec("waitlisted", "대기", "Waitlisted", _N),
    ColumnSpec("enrolled", "수강확정", "Enrolled", _N),
    ColumnSpec("attended", "출석", "Attended", _N),
    ColumnSpec("no_show", "불참", "No-show", _N),
    ColumnSpec("completed", "수료", "Completed", _N),
    ColumnSpec("failed", "미수료", "Failed", _N),
    ColumnSpec("cancelled", "취소", "Cancelled", _N),
    ColumnSpec("completion_rate", "수료율(%)", "Completion rate (%)", _P),
    ColumnSpec("attendance_rate", "출석률(%)", "Attendance rate (%)", _P),
    ColumnSpec("satisfaction_average", "만족도", "Satisfaction (0–100)", "0.00"),
    ColumnSpec("satisfaction_count", "만족도 응답 수", "Survey answers", _N),
)

# 총괄표 lines with the actual counters of each delivery mode (keys from ``queries.summary`` lines).
SUMMARY_COLUMNS: tuple[ColumnSpec, ...] = TRAINING_SUMMARY_COLUMNS + (
    ColumnSpec("enrolled", "수강확정(명)", "Enrolled", _N),
    ColumnSpec("completed", "수료(명)", "Completed", _N),
    ColumnSpec("completion_rate", "수료율(%)", "Completion rate (%)", _P),
)

SUMMARY_CHANGE_TYPE_COLUMNS: tuple[ColumnSpec, ...] = CHANGE_TYPE_COLUMNS + (
    ColumnSpec("reference_classroom", "계획서 집합", "Plan document: classroom", _N),
    ColumnSpec("reference_elearning", "계획서 e-러닝", "Plan document: e-learning", _N),
    ColumnSpec("reference_total", "계획서 계", "Plan document: total", _N),
)

COURSE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("year", "연도", "Year"),
    ColumnSpec("code", "과정코드", "Course code"),
    ColumnSpec("name_ko", "과정명", "Course"),
    ColumnSpec("delivery", "교육방법", "Delivery"),
    ColumnSpec("area_label", "역량분야", "Competency area"),
    ColumnSpec("status", "개편구분", "Change type"),
    ColumnSpec("planned_sessions", "계획 회차", "Planned sessions", _N),
) + COUNTER_COLUMNS

SESSION_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("code", "과정코드", "Course code"),
    ColumnSpec("name_ko", "과정명", "Course"),
    ColumnSpec("seq_no", "기수", "Session no."),
    ColumnSpec("starts_on", "시작일", "Starts on"),
    ColumnSpec("ends_on", "종료일", "Ends on"),
    ColumnSpec("venue", "장소", "Venue"),
    ColumnSpec("status", "상태", "Status"),
) + COUNTER_COLUMNS

GROUP_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("label", "구분", "Group"),
    ColumnSpec("key", "코드", "Key"),
) + tuple(c for c in COUNTER_COLUMNS if c.key != "planned_seats")

MONTH_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("label", "월(교육 시작)", "Month (session start)"),
    ColumnSpec("sessions", "회차 수", "Sessions", _N),
) + COUNTER_COLUMNS

RECONCILIATION_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("code", "과정코드", "Course code"),
    ColumnSpec("name_ko", "과정명", "Course"),
    ColumnSpec("kind", "비교 단위", "Compared"),
    ColumnSpec("name", "상태/집계항목", "Status / counter"),
    ColumnSpec("read_model", "통계(읽기 모델)", "Read model", _N),
    ColumnSpec("enrollment", "수강신청 서비스", "Enrollment service", _N),
    ColumnSpec("difference", "차이", "Difference", _N),
)
