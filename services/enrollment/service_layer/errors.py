"""Errors the enrollment use cases raise; the API turns them into JSON 4xx answers."""
from shared.errors import AppError


def not_found(what_ko: str, what_en: str, ident) -> AppError:
    return AppError(404, "not_found", f"{what_ko}({ident})을(를) 찾을 수 없습니다.", f"{what_en} {ident} not found.")


def conflict(code: str, ko: str, en: str, errors=None) -> AppError:
    return AppError(409, code, ko, en, errors)


def invalid(code: str, ko: str, en: str, errors=None) -> AppError:
    return AppError(422, code, ko, en, errors)
