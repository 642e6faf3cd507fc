"""The composition root: the CLI, the embedded servers, the supervisor and the single base URL
that mounts the four services. Business code lives in ``services/`` and ``shared/``."""
