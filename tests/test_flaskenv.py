"""`.flaskenv` names the app, so the README's short commands work from the project root."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_flask_sla_runs_from_the_project_root_without_flask_app(sqlite_template, tmp_path):
    db = tmp_path / "aftercall.db"
    shutil.copy(sqlite_template, db)
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "FLASK_SKIP_DOTENV")}
    env["DATABASE_URL"] = f"sqlite:///{db}"
    flask = Path(sys.executable).with_name("flask")
    done = subprocess.run([str(flask), "sla"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:3] == ["queue", "offered", "handled"]
