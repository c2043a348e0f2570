"""Bearer-JWT authentication and role checks shared by the services.

Roles: ``admin`` (everything), ``operator`` (day-to-day administration), ``trainee`` (only its own data;
the token's ``trainee_id`` claim says which). Every ``/api/`` route requires a valid token.
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from functools import lru_cache, wraps

import jwt

ROLES = ("admin", "operator", "trainee")
STAFF_ROLES = ("admin", "operator")


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    trainee_id: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def issue_token(secret: str, subject: str, role: str, trainee_id: int | None = None,
                ttl: dt.timedelta = dt.timedelta(hours=12), algorithm: str = "HS256") -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    now = dt.datetime.now(dt.timezone.utc)
    claims = {"sub": subject, "role": role, "iat": now, "exp": now + ttl}
    if trainee_id is not None:
        claims["trainee_id"] = int(trainee_id)
    return jwt.encode(claims, secret, algorithm=algorithm)


def decode_token(secret: str, token: str, algorithm: str = "HS256") -> Principal:
    """The token's principal; raises ``jwt.ExpiredSignatureError`` / ``jwt.InvalidTokenError``.

    A client sends the same token with every request, so the signature check (a tenth of a millisecond
    of PyJWT per request) is done once per token and remembered; the time claims are checked every time.
    """
    principal, not_before, expires = _verified(secret, token, algorithm)
    now = time.time()
    if now >= expires:
        raise jwt.ExpiredSignatureError("Signature has expired")
    if not_before is not None and now < not_before:
        raise jwt.ImmatureSignatureError("The token is not yet valid (nbf)")
    return principal


@lru_cache(maxsize=4096)
def _verified(secret: str, token: str, algorithm: str) -> tuple[Principal, float | None, float]:
    claims = jwt.decode(token, secret, algorithms=[algorithm], options={"require": ["exp", "sub"],
                                                                        "verify_exp": False, "verify_nbf": False})
    role = claims.get("role")
    if role not in ROLES:
        raise jwt.InvalidTokenError("unknown role")
    try:
        expires, not_before = float(claims["exp"]), (float(claims["nbf"]) if "nbf" in claims else None)
    except (TypeError, ValueError):
        raise jwt.InvalidTokenError("exp/nbf must be numbers") from None
    return Principal(subject=str(claims["sub"]), role=role, trainee_id=claims.get("trainee_id")), not_before, expires


def init_flask(app) -> None:
    """Authenticate every /api/ request before it reaches a view."""
    from flask import g, request

    from shared.errors import AppError

    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/"):
            return None
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise AppError(401, "unauthorized", "인증 토큰이 필요합니다.", "A bearer token is required.")
        try:
            g.principal = decode_token(app.config["JWT_SECRET"], header[7:].strip(),
                                       app.config["JWT_ALGORITHM"])
        except jwt.ExpiredSignatureError:
            raise AppError(401, "token_expired", "인증 토큰이 만료되었습니다.", "The token has expired.")
        except jwt.InvalidTokenError:
            raise AppError(401, "invalid_token", "유효하지 않은 인증 토큰입니다.", "The token is invalid.")
        return None


def current_principal() -> Principal:
    from flask import g
    return g.principal


def require_roles(*roles: str):
    """Decorator: the caller's role must be one of ``roles``."""
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            from shared.errors import AppError
            if current_principal().role not in roles:
                raise AppError(403, "forbidden", "이 작업을 수행할 권한이 없습니다.",
                               "You are not allowed to do this.")
            return view(*args, **kwargs)
        return wrapper
    return decorator


def ensure_can_see_trainee(trainee_id: int | None) -> None:
    """Staff see everyone; a trainee sees only itself."""
    from shared.errors import AppError
    p = current_principal()
    if p.is_staff:
        return
    if trainee_id is None or p.trainee_id is None or int(trainee_id) != int(p.trainee_id):
        raise AppError(403, "forbidden", "다른 교육생의 정보는 볼 수 없습니다.",
                       "You may only see your own data.")


def main() -> None:  # python -m shared.auth --role admin
    import argparse
    import os

    from shared.config import DEV_JWT_SECRET

    parser = argparse.ArgumentParser(description="Issue a bearer token for the HRD services")
    parser.add_argument("--role", default="admin", choices=ROLES)
    parser.add_argument("--subject", default="admin")
    parser.add_argument("--trainee-id", type=int)
    parser.add_argument("--hours", type=float, default=24 * 30)
    args = parser.parse_args()
    secret = os.environ.get("HRD_JWT_SECRET", DEV_JWT_SECRET)
    print(issue_token(secret, args.subject, args.role, args.trainee_id, dt.timedelta(hours=args.hours)))


if __name__ == "__main__":
    main()
