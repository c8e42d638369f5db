"""The web layer: FastAPI routes (``pages`` server-rendered with Jinja2, ``rest`` the JSON API),
``deps`` (sessions, CSRF, roles), ``schemas`` (the API's types), ``render`` (safe markdown)."""
