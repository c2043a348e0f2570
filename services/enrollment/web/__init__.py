"""The enrollment service's admin pages (server-rendered Jinja2, vanilla JS, no external assets).

``/admin/bulk``: upload the new-hire list, dry-run preview, start, live progress, error report. The page
itself is public HTML; every call it makes goes to /api/v1 with the bearer token the administrator pastes
(kept in sessionStorage for the tab only).
"""
from flask import Blueprint, render_template

web_blp = Blueprint("web", __name__, url_prefix="/admin/bulk", template_folder="templates",
                    static_folder="static", static_url_path="/static")


@web_blp.get("/")
@web_blp.get("")
def bulk_page():
    return render_template("bulk_admin.html")
