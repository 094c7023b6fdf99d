"""The pages: ``public/`` for people without an account, ``staff/`` for the console under /console.

The modules at this level are shared by both audiences: rendering and errors as pages
(``pages``), languages (``i18n``), words for codes (``labels``), the CSRF token (``csrf``),
hashed static files (``assets``) and form parsing (``forms``). Routers are wired in ``app.py``.
"""
