"""Laptop settings (``make run``): DEBUG on, SQLite, eager Celery and console e-mail by default."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env("SECRET_KEY", "local-development-only-not-secret")
