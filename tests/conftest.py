"""Settings every test shares. Each folder has its own small conftest with its fixtures."""

import os

# The suite never reads a developer's real database or secrets by accident.
os.environ["FLASK_ENV"] = "testing"
os.environ.pop("DATABASE_URL", None)
