"""Token checks: the verified-token cache never outlives a token's expiry nor accepts a bad signature."""
import datetime as dt
import time

import jwt
import pytest

from shared.auth import decode_token, issue_token

SECRET = "unit-secret-0123456789-0123456789-abcdef"


def test_a_cached_token_is_refused_once_it_expires():
    token = issue_token(SECRET, "kim", "operator", ttl=dt.timedelta(seconds=2))
    assert decode_token(SECRET, token).role == "operator"  # verified and cached
    assert decode_token(SECRET, token).subject == "kim"   # served from the cache
    time.sleep(max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 0.1)
    with pytest.raises(jwt.ExpiredSignatureError):
        decode_token(SECRET, token)


def test_the_cache_is_per_secret_and_rejects_tampering():
    token = issue_token(SECRET, "kim", "trainee", trainee_id=7)
    assert decode_token(SECRET, token).trainee_id == 7
    with pytest.raises(jwt.InvalidSignatureError):
        decode_token("another-secret-0123456789-0123456789-xyz", token)
    head, body, sig = token.split(".")
    with pytest.raises(jwt.InvalidTokenError):
        decode_token(SECRET, f"{head}.{body}.{sig[:-2]}AA")


def test_a_not_yet_valid_token_is_refused():
    now = int(time.time())
    token = jwt.encode({"sub": "kim", "role": "admin", "nbf": now + 60, "exp": now + 120}, SECRET, algorithm="HS256")
    with pytest.raises(jwt.ImmatureSignatureError):
        decode_token(SECRET, token)
