"""Heron's HTTP tracking server (FastAPI): ``create_app(ServerSettings(...))``."""

from heron.server.app import create_app, create_app_from_environment
from heron.server.settings import ServerSettings

__all__ = ["ServerSettings", "create_app", "create_app_from_environment"]
