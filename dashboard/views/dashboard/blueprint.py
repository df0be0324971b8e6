"""The dashboard blueprint object, shared by the route modules of this package."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)
