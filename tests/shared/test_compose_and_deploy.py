"""There is no Docker engine on our machines, so the deployment files are checked by reading them."""
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("enrollment", "notification", "reporting")


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_compose_names_every_process_of_every_service():
    svcs = compose()
    for svc in SERVICES:
        for role in ("migrate", "web", "worker", "beat"):
            assert f"{svc}-{role}" in svcs, f"{svc}-{role} missing"
        assert svcs[f"{svc}-web"]["build"]["dockerfile"] == f"deploy/{svc}/Dockerfile"
        worker_cmds = [" ".join(svcs[name]["command"]) for name in (f"{svc}-worker", f"{svc}-consumer") if name in svcs]
        assert all(f"services.{svc}.worker worker" in cmd for cmd in worker_cmds)
        consumed = {q for cmd in worker_cmds for q in cmd.split("-Q ", 1)[1].split()[0].split(",")}
        assert consumed == {svc, f"{svc}.events"}, f"{svc}: every queue has a worker ({consumed})"
        assert f"services.{svc}.worker beat" in " ".join(svcs[f"{svc}-beat"]["command"])
        env = svcs[f"{svc}-web"]["environment"]
        assert env[f"{svc.upper()}_DATABASE_URL"].endswith(f"/{svc}"), "each service has its own database"
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert svcs[f"{svc}-web"]["depends_on"][f"{svc}-migrate"]["condition"] == "service_completed_successfully"


def test_redis_keeps_an_append_only_file_and_postgres_has_one_db_per_service():
    svcs = compose()
    assert "--appendonly" in svcs["redis"]["command"] and "yes" in svcs["redis"]["command"]
    init = (ROOT / "deploy/postgres/init.sql").read_text()
    for svc in SERVICES:
        assert f"CREATE DATABASE {svc};" in init


def test_published_ports_match_the_contract():
    svcs = compose()
    assert svcs["enrollment-web"]["ports"] == ["8001:8001"]
    assert svcs["notification-web"]["ports"] == ["8002:8002"]
    assert svcs["reporting-web"]["ports"] == ["8003:8003"]


def test_each_image_contains_only_its_own_service():
    for svc in SERVICES:
        text = (ROOT / f"deploy/{svc}/Dockerfile").read_text()
        copies = [line.split()[1] for line in text.splitlines() if line.startswith("COPY ")]
        assert f"services/{svc}/" in copies and "shared/" in copies
        others = [o for o in SERVICES if o != svc]
        assert not any(f"services/{o}" in c for c in copies for o in others), copies
        assert "COPY . " not in text
        assert f"services.{svc}.app:create_app()" in text


def test_dev_procfile_commands_import(tmp_path):
    """The commands make run starts point at modules that exist."""
    import importlib
    for svc in SERVICES:
        assert importlib.util.find_spec(f"services.{svc}.worker") is not None
        assert importlib.util.find_spec(f"services.{svc}.app") is not None
