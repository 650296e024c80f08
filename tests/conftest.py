"""Settings every test shares. Each folder has its own small conftest with its fixtures."""

import os

# The suite never reads a developer's real database or secrets by accident.
os.environ["FLASK_ENV"] = "testing"
os.environ.pop("DATABASE_URL", None)
# Background tasks (matching.tasks) run at once in the caller, with Huey's in-memory storage: the
# tests never write a queue file into instance/. One test runs a real worker on its own queue.
os.environ["HUEY_IMMEDIATE"] = "1"
