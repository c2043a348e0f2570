"""The 2019 demo plan: every real course the seed names, plus labelled generated
courses, so that the totals match the 2019 plan exactly.

* 239 courses / 198,999 seats; classroom 125 / 22,829; e-learning 114 / 176,170.
* 2019 change types: classroom new 22, improved 81, continuing 22 (inferred:
  125 − 22 − 81); e-learning new 24, improved 13, continuing 77.
* Real courses come from ``courses-2019.csv`` (passed in as rows so this module
  stays free of I/O).  A seed row is skipped when it is a subject, module or
  field trip inside a course, merged/replaced or abolished in 2019, or in
  ``EXCLUDED_SEEDS`` (e.g. the onboarding *track*, a University-run course).
  Skipped rows are kept in ``DemoPlan.excluded`` with the reason.
* Seed status "unknown" is read as continuing (a 2018 course with no stated
  change); seed area "unknown" and blank seats get the documented assumptions
  in ``_REAL_OVERRIDES`` / ``_DEFAULT_CLASSROOM`` / ``_DEFAULT_ELEARNING_SEATS``.
* Two courses the text describes without naming (heads' leadership 20명,
  staff integrity 400명 for invested/funded institutions) get composed names.
* Generated courses are prefixed "[생성]" / "[Generated]": the post-appointment
  onboarding week by job-series group (9 sessions each, after each 7~9급 신입자
  session + 2 weeks of department adaptation), the pre-appointment e-learning,
  16 global training courses (18 in the plan, 2 named) and topic courses.
* Scheduling: sessions only on business days (no weekend, no public holiday);
  courses of up to 5 days never span a weekend; job courses start in March and
  September first (after the personnel transfers); rooms are never double-booked;
  e-learning courses run monthly cohorts (12 sessions, first to last business
  day of each month).  Enrollment opens 30 days and closes 7 days before start.
* Codes: C19-001… classroom, E19-001… e-learning, in seed order then generated.
* Deterministic: the only randomness is ``random.Random(2019)``.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from .calendar_2019 import (
    business_days, calendar_days, first_business_day_of_month, is_business_day,
    last_business_day_of_month, next_business_day,
)
from .model import (
    GENERATED_PREFIX_EN, GENERATED_PREFIX_KO, CompetencyArea, Course, CourseStatus, Delivery,
    OrganisationType, Session,
)
from .vocabulary import parse_grade_targets

YEAR = 2019
TOTAL_COURSES, TOTAL_SEATS = 239, 198_999
TARGETS: dict[Delivery, tuple[int, int]] = {
    Delivery.CLASSROOM: (125, 22_829),
    Delivery.ELEARNING: (114, 176_170),
}
STATUS_TARGETS: dict[Delivery, dict[CourseStatus, int]] = {
    Delivery.CLASSROOM: {CourseStatus.NEW: 22, CourseStatus.IMPROVED: 81, CourseStatus.CONTINUING: 22},
    Delivery.ELEARNING: {CourseStatus.NEW: 24, CourseStatus.IMPROVED: 13, CourseStatus.CONTINUING: 77},
}
ENROLLMENT_OPENS_DAYS, ENROLLMENT_CLOSES_DAYS = 30, 7
ONLINE_VENUE = "사이버교육센터(온라인)"
ONBOARDING_COURSE = "7~9급 신입자"
FLIPPED_PAIR = ("빅데이터 분석 실무(시각화 및 탐색중심)", "e-빅데이터의 이해")

_A, _Dl, _S = CompetencyArea, Delivery, CourseStatus


# --- seed selection ------------------------------------------------------------

_COMPONENT_NOTE = re.compile(
    r"^(?:(?:in-person|discussion|hands-on|new common job)\s+)?"
    r"(?:subject(?:\(s\))?\s*(?:\(|in\b|within\b|newly\b|with\b)|module\b|field trip\b)", re.IGNORECASE)

EXCLUDED_SEEDS: dict[str, tuple[str, str]] = {
    "임용 前·後교육": ("과정들로 이루어진 신규자 교육 트랙(7~9급 신입자 등)으로, 단일 과정이 아님",
                   "a track made of several courses (7~9급 신입자 etc.), not one course"),
    "서울시 정책 해외컨설턴트 양성 과정": ("인재개발원이 아닌 서울시립대 운영 과정", "run by the University of Seoul"),
    "3급~7급 승진자": ("2018년 승진자 과정들의 묶음 표기", "2018 label for a group of promotee courses"),
    "스마트기기로 AR/VR 체험": ("2019년 통합된 '소프트기 VR/AR 체험'과 같은 과정으로 추정",
                        "probably the course merged in 2019 as 소프트기 VR/AR 체험"),
    "사람중심 도시재생": ("2019년 '도시재생' 과정으로 전면 개편된 2018년 과정명으로 추정",
                  "2018 name of the course revamped as 도시재생"),
    "성과리더십": ("2018년 '실무·성과리더십'의 일부; 2019년은 실무리더십만 언급",
              "part of 2018 실무·성과리더십; the 2019 text names 실무리더십 only"),
}


@dataclass(frozen=True)
class ExcludedSeed:
    name_ko: str
    status: str
    reason_ko: str
    reason_en: str


def classify_seed_row(row: Mapping[str, str]) -> ExcludedSeed | None:
    """None when the seed row is a 2019 course, else why it is left out."""
    name, status, notes = row["name_ko"], row["status_2019"], row.get("notes") or ""
    if _COMPONENT_NOTE.match(notes):
        return ExcludedSeed(name, status, "교육과정 안의 교과목·모듈·현장학습", "a subject, module or field trip")
    if status == "merged_or_replaced":
        return ExcludedSeed(name, status, "2019년 통합·대체", "merged or replaced in 2019")
    if status == "abolished":
        return ExcludedSeed(name, status, "2019년 폐지", "abolished in 2019")
    if name in EXCLUDED_SEEDS:
        ko, en = EXCLUDED_SEEDS[name]
        return ExcludedSeed(name, status, ko, en)
    return None


# --- assumptions for real courses ------------------------------------------------

@dataclass(frozen=True)
class _Spec:
    """Everything needed to create and schedule one course."""

    name_ko: str
    name_en: str
    delivery: Delivery
    area: CompetencyArea
    status: CourseStatus | None          # None: drawn from the status pool (generated only)
    seats: int | None = None             # None: drawn from the seat budget (generated only)
    sessions: int | None = None
    days: int | None = None
    hours: int | None = None
    grades: str = ""
    series: str = ""
    organisations: tuple[OrganisationType, ...] = ()
    notes: str = ""
    prerequisite_name: str = ""
    month: int | None = None             # preferred month of the first session


# name → overrides (area, sessions, seats, days, grades, series, organisations).  The
# seed leaves these blank; values are our assumptions, flagged in the course notes.
_INV, _FOREIGN = OrganisationType.INVESTED_INSTITUTION, OrganisationType.FOREIGN
_REAL_OVERRIDES: dict[str, dict[str, object]] = {
    "투·출기관 관리자 리더십": dict(sessions=2, seats=50, days=2, organisations=(_INV,)),
    "5급 공채 신입리더": dict(sessions=2, seats=50, days=5, grades="5급"),
    "실무관 산업안전 및 보건": dict(days=1, grades="실무관"),
    "함께서울 공감마당": dict(sessions=10, seats=1000, days=1),
    "팀장리더십": dict(days=3, grades="5급"),
    "과장리더십": dict(sessions=4, seats=100, days=3, grades="4급"),
    "실무리더십": dict(sessions=14, days=2),
    ONBOARDING_COURSE: dict(days=20, grades="7~9급"),
    "실무관 공직입문": dict(area=_A.BASIC, sessions=4, seats=200, days=3, grades="실무관"),
    "청렴특별시 서울": dict(sessions=4, seats=200, days=1),
    "3급·4급 승진리더": dict(sessions=2, seats=60, days=5, grades="3급, 4급"),
    "5급 승진리더": dict(days=5, grades="5급"),
    "핵심노하우 1일 특강": dict(area=_A.JOB, sessions=4, seats=200, days=1),
    "6급 미래인재 양성": dict(area=_A.LEADERSHIP, days=20, grades="6급"),
    "서울로 문화관광": dict(area=_A.JOB),
    "임기·경력직 공무원 공직입문": dict(area=_A.BASIC, sessions=4, seats=160, days=3),
    "실무관 공감마당": dict(days=1, grades="실무관"),
    "기계실무": dict(series="기계"),
    "전기실무": dict(series="전기"),
    "공원녹지실무": dict(series="녹지, 조경"),
    "찾아가는 동주민센터 실무자 공감·치유": dict(area=_A.BASIC, sessions=4, seats=120, days=1),
    "잠시 쉬어가기": dict(area=_A.BASIC, sessions=6, seats=180, days=2),
    "건강체력관리": dict(area=_A.BASIC, sessions=4, seats=120, days=2),
    "행복한 미래설계": dict(area=_A.BASIC, sessions=4, seats=160, days=3),
    "인생 이모작준비": dict(area=_A.BASIC, sessions=4, seats=160, days=3),
    "4차 산업혁명과 미래행정": dict(area=_A.IT),
    "인문·미래학 특강": dict(area=_A.BASIC, sessions=4, seats=200, days=1),
    "기후변화": dict(area=_A.JOB, sessions=1, seats=20, days=5, organisations=(_FOREIGN,), month=5),  # '19.5.
    "서울워크숍": dict(area=_A.JOB, sessions=1, seats=15, days=3, organisations=(_FOREIGN,), month=6),  # '19.6.
    FLIPPED_PAIR[0]: dict(days=3, prerequisite_name=FLIPPED_PAIR[1]),
    # e-learning seats (shared-content courses for all staff are large)
    "e-공직자 행동강령": dict(seats=12_000),
    "e-역사 속에서 찾는 청렴이야기": dict(seats=8_000),
    "e-인권의 이해": dict(area=_A.BASIC, seats=8_000),
    "e-함께하는 평화통일교육": dict(seats=6_000),
    "e-재난관리총론": dict(seats=3_000),
    FLIPPED_PAIR[1]: dict(seats=2_400),
}
# area → (sessions, seats per session, days) when the seed gives no figures
_DEFAULT_CLASSROOM: dict[CompetencyArea, tuple[int, int, int]] = {
    _A.BASIC: (2, 40, 2), _A.LEADERSHIP: (2, 30, 3), _A.JOB: (2, 30, 2), _A.IT: (2, 25, 3),
}
_DEFAULT_ELEARNING_SEATS = 1_500
_SESSION_SIZE = {_A.BASIC: 40, _A.LEADERSHIP: 30, _A.JOB: 30, _A.IT: 25}

# Courses the plan text describes without a name (section 5 of the brief).
_DESCRIBED: tuple[_Spec, ...] = (
    _Spec("투자·출연기관장 리더십", "Leadership for Heads of Invested/Funded Institutions",
          _Dl.CLASSROOM, _A.LEADERSHIP, _S.NEW, seats=20, sessions=1, days=2, organisations=(_INV,),
          notes="본문에 설명만 있는 과정(과정명은 구성) / described in the text, name composed"),
    _Spec("투자·출연기관 직원 청렴교육", "Integrity Training for Staff of Invested/Funded Institutions",
          _Dl.CLASSROOM, _A.BASIC, _S.NEW, seats=400, sessions=4, days=1, organisations=(_INV,),
          notes="본문에 설명만 있는 과정(과정명은 구성) / described in the text, name composed"),
)


def _real_spec(row: Mapping[str, str]) -> _Spec:
    over = _REAL_OVERRIDES.get(row["name_ko"], {})
    delivery = Delivery.parse(row["delivery"])
    area = over.get("area") or (CompetencyArea.parse(row["competency_area"])
                                if row["competency_area"] != "unknown" else CompetencyArea.BASIC)
    status = CourseStatus.CONTINUING if row["status_2019"] == "unknown" else CourseStatus.parse(row["status_2019"])
    seed_sessions = int(row["sessions"]) if row.get("sessions") else None
    seed_seats = int(row["seats"]) if row.get("seats") else None
    assumed = []
    if delivery is Delivery.CLASSROOM:
        default_sessions, size, default_days = _DEFAULT_CLASSROOM[area]  # type: ignore[index]
        sessions = seed_sessions or over.get("sessions") or (
            -(-seed_seats // 50) if seed_seats else default_sessions)
        seats = seed_seats or over.get("seats") or sessions * size
        days = over.get("days") or default_days
        if not seed_seats:
            assumed.append("인원·회차 가정 / seats and sessions assumed")
    else:
        sessions, days = 12, None
        seats = seed_seats or over.get("seats") or _DEFAULT_ELEARNING_SEATS
        if not seed_seats:
            assumed.append("인원 가정 / seats assumed")
    if row["status_2019"] == "unknown":
        assumed.append("변경구분 미기재→계속 / status not stated, taken as continuing")
    return _Spec(
        row["name_ko"], row["name_en"], delivery, area, status, seats=seats, sessions=sessions,  # type: ignore[arg-type]
        days=days, grades=str(over.get("grades", "")), series=str(over.get("series", "")),  # type: ignore[arg-type]
        organisations=tuple(over.get("organisations", ())),  # type: ignore[arg-type]
        notes="; ".join(assumed), prerequisite_name=str(over.get("prerequisite_name", "")),
        month=over.get("month"),  # type: ignore[arg-type]
    )


# --- generated courses ---------------------------------------------------------

_TOPICS: tuple[tuple[str, str, CompetencyArea], ...] = (
    ("지방재정 실무", "Local Public Finance Practice", _A.JOB),
    ("예산 편성과 집행", "Budget Planning and Execution", _A.JOB),
    ("계약 실무", "Public Contract Practice", _A.JOB),
    ("회계 결산 실무", "Accounting and Closing Practice", _A.JOB),
    ("인사 실무", "Personnel Administration Practice", _A.JOB),
    ("복무 관리 실무", "Service Regulations Practice", _A.JOB),
    ("민원 응대 실무", "Civil Complaint Handling", _A.JOB),
    ("공문서 작성", "Writing Official Documents", _A.JOB),
    ("정책 기획 실무", "Policy Planning Practice", _A.JOB),
    ("보도자료 작성과 언론 대응", "Press Releases and Media Relations", _A.JOB),
    ("지방세 실무", "Local Tax Practice", _A.JOB),
    ("세외수입 관리", "Non-tax Revenue Management", _A.JOB),
    ("건축 인허가 실무", "Building Permit Practice", _A.JOB),
    ("주택 정책 실무", "Housing Policy Practice", _A.JOB),
    ("교통 정책 실무", "Transport Policy Practice", _A.JOB),
    ("도로 관리 실무", "Road Management Practice", _A.JOB),
    ("하천 관리 실무", "River Management Practice", _A.JOB),
    ("상수도 관리 실무", "Waterworks Management Practice", _A.JOB),
    ("환경영향평가 실무", "Environmental Impact Assessment", _A.JOB),
    ("대기질 관리 실무", "Air Quality Management Practice", _A.JOB),
    ("폐기물 관리 실무", "Waste Management Practice", _A.JOB),
    ("식품위생 관리", "Food Hygiene Inspection", _A.JOB),
    ("공중보건 실무", "Public Health Practice", _A.JOB),
    ("감염병 대응 실무", "Infectious Disease Response", _A.JOB),
    ("사회복지 사례관리", "Social Welfare Case Management", _A.JOB),
    ("아동·청소년 복지 실무", "Child and Youth Welfare Practice", _A.JOB),
    ("일자리 정책 실무", "Employment Policy Practice", _A.JOB),
    ("소상공인 지원 실무", "Small Business Support Practice", _A.JOB),
    ("문화행사 기획", "Cultural Event Planning", _A.JOB),
    ("관광 정책 실무", "Tourism Policy Practice", _A.JOB),
    ("갈등 관리와 협상", "Conflict Management and Negotiation", _A.JOB),
    ("행정소송 실무", "Administrative Litigation Practice", _A.JOB),
    ("공유재산 관리", "Public Property Management", _A.JOB),
    ("도시 공간정보 활용", "Using Urban Spatial Information", _A.JOB),
    ("기록물 관리 실무", "Records Management Practice", _A.JOB),
    ("공직윤리와 청렴", "Public Ethics and Integrity", _A.BASIC),
    ("성인지 감수성 향상", "Raising Gender Sensitivity", _A.BASIC),
    ("인권 감수성 향상", "Raising Human Rights Awareness", _A.BASIC),
    ("장애인식 개선", "Disability Awareness", _A.BASIC),
    ("서울 시정 이해", "Understanding Seoul's Administration", _A.BASIC),
    ("시민참여와 협치", "Citizen Participation and Governance", _A.BASIC),
    ("직장 내 소통", "Workplace Communication", _A.BASIC),
    ("스트레스 관리", "Stress Management", _A.BASIC),
    ("세대 공감", "Understanding Across Generations", _A.BASIC),
    ("신임 팀장 역량", "New Team Leader Competencies", _A.LEADERSHIP),
    ("코칭 리더십", "Coaching Leadership", _A.LEADERSHIP),
    ("조직 갈등 관리", "Managing Organisational Conflict", _A.LEADERSHIP),
    ("성과 관리와 피드백", "Performance Management and Feedback", _A.LEADERSHIP),
    ("변화 관리 리더십", "Leading Change", _A.LEADERSHIP),
    ("데이터 기반 행정", "Data-Driven Administration", _A.IT),
    ("엑셀 데이터 분석", "Data Analysis with Excel", _A.IT),
    ("파이썬 기초", "Python Basics", _A.IT),
    ("인공지능 이해", "Understanding Artificial Intelligence", _A.IT),
    ("정보보안 실무", "Information Security Practice", _A.IT),
    ("클라우드 서비스 이해", "Understanding Cloud Services", _A.IT),
    ("공공 빅데이터 활용", "Using Public Big Data", _A.IT),
    ("스마트시티 이해", "Understanding Smart Cities", _A.IT),
    ("사물인터넷 이해", "Understanding the Internet of Things", _A.IT),
    ("GIS 활용", "Using GIS", _A.IT),
    ("드론 활용 행정", "Drones in Administration", _A.IT),
    ("영상 편집 실무", "Video Editing Practice", _A.IT),
)
_GLOBAL_FIELDS: tuple[tuple[str, str], ...] = (
    ("전자정부", "e-Government"), ("대중교통", "Public Transport"), ("상수도 관리", "Water Supply"),
    ("협치", "Governance"), ("도시재생", "Urban Regeneration"), ("사회적경제(GSEF)", "Social Economy (GSEF)"),
    ("기후변화 대응", "Climate Action"), ("스마트시티", "Smart City"), ("도시계획", "Urban Planning"),
    ("폐기물 관리", "Waste Management"), ("재난안전", "Disaster Safety"), ("청렴 행정", "Integrity"),
    ("교통정보(TOPIS)", "Traffic Information (TOPIS)"), ("공원녹지", "Parks and Green Space"),
    ("주택 정책", "Housing Policy"), ("문화관광", "Culture and Tourism"),
)
GLOBAL_TRAINING_SEATS_2019 = 270  # 18 courses; 2 are named seeds (기후변화, 서울워크숍)
ONBOARDING_HIRES_2019 = 3_020
_POST_APPOINTMENT_GROUPS = (("행정직군", "Administrative", 1_800), ("기술직군", "Technical", 1_220))


def _generated(name_ko: str, name_en: str, delivery: Delivery, area: CompetencyArea,
               status: CourseStatus | None, **kw: object) -> _Spec:
    return _Spec(f"{GENERATED_PREFIX_KO} {name_ko}", f"{GENERATED_PREFIX_EN} {name_en}",
                 delivery, area, status, **kw)  # type: ignore[arg-type]


def _fixed_generated(global_seats: int) -> list[_Spec]:
    specs = [
        _generated(f"임용후 직렬별 직무교육({ko})", f"Post-Appointment Job Training ({en})", _Dl.CLASSROOM,
                   _A.JOB, _S.NEW, seats=seats, sessions=9, days=5, series=ko,
                   notes="신규자 트랙 임용후 1주 / onboarding track, post-appointment week")
        for ko, en, seats in _POST_APPOINTMENT_GROUPS
    ]
    specs.append(_generated("e-신규임용자 사전학습", "e-Pre-Appointment Learning for New Recruits",
                            _Dl.ELEARNING, _A.BASIC, _S.NEW, seats=ONBOARDING_HIRES_2019, sessions=12,
                            hours=30, notes="신규자 트랙 임용전 이러닝 3주 / onboarding track, 3 weeks"))
    sizes = _split(global_seats, len(_GLOBAL_FIELDS))
    specs += [
        _generated(f"해외도시 공무원 초청연수: {ko}", f"Global Training for Foreign Officials: {en}",
                   _Dl.CLASSROOM, _A.JOB, None, seats=size, sessions=1, days=5, organisations=(_FOREIGN,))
        for (ko, en), size in zip(_GLOBAL_FIELDS, sizes)
    ]
    return specs


def _topic_specs(delivery: Delivery, count: int) -> list[_Spec]:
    specs = []
    for index in range(count):
        ko, en, area = _TOPICS[index % len(_TOPICS)]
        advanced = index >= len(_TOPICS)
        if delivery is Delivery.ELEARNING:
            ko, en = f"e-{ko}", f"e-{en}"
        if advanced:
            ko, en = f"{ko} 심화", f"{en} (Advanced)"
        specs.append(_generated(ko, en, delivery, area, None))
    return specs


# --- arithmetic helpers --------------------------------------------------------

def _split(total: int, parts: int) -> list[int]:
    """Split as evenly as possible, larger parts first: 10 into 3 → [4, 3, 3]."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _weighted_budget(total: int, count: int, rng: random.Random) -> list[int]:
    """``count`` positive seat numbers, multiples of 10 except the last, summing to ``total``."""
    weights = [rng.uniform(0.6, 1.4) for _ in range(count)]
    scale = total / sum(weights)
    sizes = [max(10, round(w * scale / 10) * 10) for w in weights[:-1]]
    sizes.append(total - sum(sizes))
    if sizes[-1] <= 0:
        raise ValueError("seat budget too small for the generated courses")
    return sizes


# --- scheduling ----------------------------------------------------------------

@dataclass(frozen=True)
class Room:
    name: str
    capacity: int
    computer_lab: bool = False


ROOMS: tuple[Room, ...] = (
    Room("세미나실1", 30), Room("세미나실2", 30),
    Room("전산교육장1", 40, True), Room("전산교육장2", 40, True), Room("전산교육장3", 40, True),
    *(Room(f"강의실{n}", 50) for n in range(301, 311)),
    Room("소강당", 200), Room("다산홀", 250), Room("세종홀", 300), Room("대강당", 400),
)
_JOB_MONTHS = (3, 9, 3, 9, 4, 10, 5, 11, 6, 7, 2, 8, 12)


class _Scheduler:
    """Greedy room booking on business days; a session that does not fit moves on a day."""

    def __init__(self, rooms: Sequence[Room]) -> None:
        self.rooms = sorted(rooms, key=lambda r: (r.capacity, r.name))
        self.busy: dict[str, set[date]] = {r.name: set() for r in rooms}

    def book(self, earliest: date, days: int, capacity: int, it: bool) -> tuple[date, date, str]:
        start = next_business_day(earliest)
        while start.year == YEAR:
            span = business_days(start, days)
            fits_week = days > 5 or all(is_business_day(d) for d in calendar_days(span[0], span[-1]))
            if fits_week and span[-1].year == YEAR:
                room = self._free_room(span, capacity, it)
                if room is not None:
                    self.busy[room.name].update(span)
                    return span[0], span[-1], room.name
            start = next_business_day(start + timedelta(days=1))
        raise RuntimeError(f"no room for a {days}-day session of {capacity} from {earliest}")

    def _free_room(self, span: list[date], capacity: int, it: bool) -> Room | None:
        suitable = [r for r in self.rooms if r.capacity >= capacity]
        # computer labs for IT courses first; other courses use them only as a last resort
        suitable.sort(key=lambda r: (r.computer_lab != it, r.capacity))
        for room in suitable:
            if self.busy[room.name].isdisjoint(span):
                return room
        return None


def _preferred_start(spec: _Spec, course_index: int, session_index: int, sessions: int) -> date:
    week = (course_index + session_index) % 4
    if spec.month is not None:
        month = min(12, spec.month + session_index)
    elif spec.area is CompetencyArea.JOB:
        month = _JOB_MONTHS[session_index % len(_JOB_MONTHS)]
    else:
        month = 2 + (session_index * 10 // max(sessions, 1) + course_index) % 10
    return date(YEAR, month, 1) + timedelta(days=7 * week)


def _window(start: date) -> tuple[date, date]:
    return start - timedelta(days=ENROLLMENT_OPENS_DAYS), start - timedelta(days=ENROLLMENT_CLOSES_DAYS)


def _elearning_sessions(code: str, seats: int) -> tuple[Session, ...]:
    sessions = []
    for month, capacity in zip(range(1, 13), _split(seats, 12)):
        start = first_business_day_of_month(YEAR, month)
        opens, closes = _window(start)
        sessions.append(Session(code, month, start, last_business_day_of_month(YEAR, month), capacity,
                                ONLINE_VENUE, opens, closes))
    return tuple(sessions)


def _numbered(code: str, booked: list[tuple[date, date, str, int]]) -> tuple[Session, ...]:
    """Sessions numbered 1..n in date order (회차 order = calendar order)."""
    sessions = []
    for number, (start, end, room, capacity) in enumerate(sorted(booked), start=1):
        opens, closes = _window(start)
        sessions.append(Session(code, number, start, end, capacity, room, opens, closes))
    return tuple(sessions)


# --- assembly ------------------------------------------------------------------

@dataclass(frozen=True)
class DemoPlan:
    courses: tuple[Course, ...]
    excluded: tuple[ExcludedSeed, ...] = field(default=())

    def by_name(self, name_ko: str) -> Course:
        return next(c for c in self.courses if c.name_ko == name_ko)

    def totals(self, delivery: Delivery | None = None) -> tuple[int, int]:
        chosen = [c for c in self.courses if delivery is None or c.delivery is delivery]
        return len(chosen), sum(c.planned_seats for c in chosen)


def build_demo_plan(seed_rows: Iterable[Mapping[str, str]]) -> DemoPlan:
    """Build the 2019 demo plan from the rows of ``courses-2019.csv``."""
    rng = random.Random(YEAR)
    excluded: list[ExcludedSeed] = []
    real: list[_Spec] = []
    for row in seed_rows:
        skip = classify_seed_row(row)
        if skip is None:
            real.append(_real_spec(row))
        else:
            excluded.append(skip)
    fixed_specs = list(_DESCRIBED)
    named_global = sum(s.seats or 0 for s in real if _FOREIGN in s.organisations)
    generated = _fixed_generated(GLOBAL_TRAINING_SEATS_2019 - named_global)

    specs: list[_Spec] = []
    for delivery in (Delivery.CLASSROOM, Delivery.ELEARNING):
        known = [s for s in real + fixed_specs + generated if s.delivery is delivery]
        target_courses, target_seats = TARGETS[delivery]
        topics = _topic_specs(delivery, target_courses - len(known))
        seats = _weighted_budget(target_seats - sum(s.seats or 0 for s in known), len(topics), rng)
        topics = [replace(t, seats=n) for t, n in zip(topics, seats)]
        specs += _assign_statuses(known + topics, STATUS_TARGETS[delivery], rng)
    return DemoPlan(_materialise(specs), tuple(excluded))


def _assign_statuses(specs: list[_Spec], targets: Mapping[CourseStatus, int], rng: random.Random) -> list[_Spec]:
    have = Counter(s.status for s in specs if s.status is not None)
    pool = [status for status, n in targets.items() for _ in range(n - have[status])]
    if any(n > targets.get(status, 0) for status, n in have.items()) or len(pool) != sum(
            s.status is None for s in specs):
        raise ValueError(f"status targets cannot be met: have {dict(have)}, targets {dict(targets)}")
    rng.shuffle(pool)
    drawn = iter(pool)
    return [s if s.status is not None else replace(s, status=next(drawn)) for s in specs]


def _materialise(specs: list[_Spec]) -> tuple[Course, ...]:
    scheduler = _Scheduler(ROOMS)
    counters = {Delivery.CLASSROOM: 0, Delivery.ELEARNING: 0}
    codes: dict[str, str] = {}
    for spec in specs:
        counters[spec.delivery] += 1
        prefix = "C" if spec.delivery is Delivery.CLASSROOM else "E"
        codes[spec.name_ko] = f"{prefix}{YEAR % 100:02d}-{counters[spec.delivery]:03d}"

    booked: dict[str, list[tuple[date, date, str, int]]] = {}
    # The onboarding track is booked first: it needs the big hall for 9 × 4 weeks.
    onboarding = next(s for s in specs if s.name_ko == ONBOARDING_COURSE)
    onboarding_ends: list[date] = []
    for i, capacity in enumerate(_split(onboarding.seats or 0, onboarding.sessions or 1)):
        start, end, room = scheduler.book(date(YEAR, 1, 7) + timedelta(weeks=5 * i), onboarding.days or 20,
                                          capacity, False)
        booked.setdefault(onboarding.name_ko, []).append((start, end, room, capacity))
        onboarding_ends.append(end)
    for spec in specs:
        if spec.delivery is not Delivery.CLASSROOM or spec.name_ko in booked or "임용후" not in spec.name_ko:
            continue
        for end, capacity in zip(onboarding_ends, _split(spec.seats or 0, spec.sessions or 9)):
            # appointment follows the classroom weeks; then 2 weeks of department adaptation
            start, last, room = scheduler.book(end + timedelta(days=17), spec.days or 5, capacity, False)
            booked.setdefault(spec.name_ko, []).append((start, last, room, capacity))

    courses: list[Course] = []
    for index, spec in enumerate(specs):
        code = codes[spec.name_ko]
        if spec.delivery is Delivery.ELEARNING:
            sessions = _elearning_sessions(code, spec.seats or 0)
            hours = spec.hours or 8 + (index * 7) % 17
            days = None
        else:
            days = spec.days or _DEFAULT_CLASSROOM[spec.area][2]
            hours = days * 7
            if spec.name_ko not in booked:
                count = spec.sessions or max(1, round((spec.seats or 0) / _SESSION_SIZE[spec.area]))
                for i, capacity in enumerate(_split(spec.seats or 0, count)):
                    earliest = _preferred_start(spec, index, i, count)
                    start, end, room = scheduler.book(earliest, days, capacity, spec.area is CompetencyArea.IT)
                    booked.setdefault(spec.name_ko, []).append((start, end, room, capacity))
            sessions = _numbered(code, booked[spec.name_ko])
        grades, unknown = parse_grade_targets(spec.grades)
        assert not unknown, unknown
        courses.append(Course(
            code=code, year=YEAR, name_ko=spec.name_ko, name_en=spec.name_en, delivery=spec.delivery,
            area=spec.area, status=spec.status or CourseStatus.CONTINUING,
            planned_sessions=len(sessions), planned_seats=sum(s.capacity for s in sessions),
            duration_days=days, duration_hours=hours, target_grades=grades,
            target_job_series=frozenset(x.strip() for x in spec.series.split(",") if x.strip()),
            target_organisations=frozenset(spec.organisations),
            prerequisites=(codes[spec.prerequisite_name],) if spec.prerequisite_name else (),
            sessions=sessions, notes=spec.notes,
        ))
    return tuple(courses)
