"""The site's own settings (config.settings, from the same environment) plus the
bench's URLconf, which adds one bare view: the floor of the load test."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
