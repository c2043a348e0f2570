from services.enrollment.adapters.orm import metadata
import services.enrollment.adapters.bulk_orm  # noqa: F401,E402 - bulk tables live on the same metadata
from shared.migrations import run_env

run_env(metadata)
