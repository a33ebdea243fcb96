"""Errors wkin reports as one line (``wkin: error: ...``, exit status 2) instead of a traceback."""


class ConfigError(ValueError):
    """A configuration problem (TOML key or keyword argument), reported as one line naming the key."""
