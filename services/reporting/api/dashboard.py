"""/dashboard/: the reporting dashboard page (Korean with an English toggle).

The page is static HTML + vanilla JS + inline SVG (no external CDN). It asks for a bearer token, keeps it
in sessionStorage and calls /api/v1/reports/* like any client; the page itself needs no token.
"""
from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="../templates",
               static_folder="../static", static_url_path="/static")


@bp.get("/")
def index():
    return render_template("dashboard.html")
