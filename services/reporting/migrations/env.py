from services.reporting.adapters.orm import metadata
from shared.migrations import run_env

run_env(metadata)
