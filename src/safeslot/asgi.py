"""ASGI entry point for uvicorn: the app built from the environment's settings."""

from safeslot.app import create_app
from safeslot.config import Settings

app = create_app(Settings())
