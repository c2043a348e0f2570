from flask import Flask

from shared.config import load_settings


def test_precedence_defaults_then_hrd_then_service_then_explicit(monkeypatch, tmp_path):
    monkeypatch.setenv("HRD_OUTBOX_SWEEP_SECONDS", "5")
    monkeypatch.setenv("HRD_JWT_SECRET", "from-hrd")
    monkeypatch.setenv("ENROLLMENT_JWT_SECRET", "from-service")
    monkeypatch.setenv("ENROLLMENT_DATABASE_URL", f"sqlite:///{tmp_path}/x/e.db")
    monkeypatch.setenv("REDIS_URL", "redis://example:1/2")
    app = Flask("t")
    load_settings(app, "enrollment", {"OUTBOX_BATCH_SIZE": 7})
    assert app.config["OUTBOX_SWEEP_SECONDS"] == 5          # JSON-parsed from HRD_*
    assert app.config["JWT_SECRET"] == "from-service"       # service prefix beats HRD_
    assert app.config["OUTBOX_BATCH_SIZE"] == 7             # explicit beats env
    assert app.config["REDIS_URL"] == "redis://example:1/2"
    assert (tmp_path / "x").is_dir()                        # SQLite's folder is created


def test_defaults_are_embedded(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    app = Flask("t")
    load_settings(app, "reporting")
    assert app.config["DATABASE_URL"].startswith("sqlite:///") and app.config["DATABASE_URL"].endswith("reporting.db")
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6390/0"
