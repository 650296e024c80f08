"""Imports every model module so that Base.metadata is complete (for Alembic and the tests)."""

from core.audit import models as audit_models  # noqa: F401
from core.auth import models as auth_models  # noqa: F401
from core.db import Base
from core.geography import models as geography_models  # noqa: F401
from matching import models as matching_models  # noqa: F401
from matching.api import models as api_models  # noqa: F401
from matching.calendar import models as calendar_models  # noqa: F401
from matching.deployments import models as deployments_models  # noqa: F401
from matching.hours import models as hours_models  # noqa: F401
from matching.insight import models as insight_models  # noqa: F401
from matching.notifications import models as notifications_models  # noqa: F401
from matching.teams import models as teams_models  # noqa: F401
from vetting import models as vetting_models  # noqa: F401
from volunteers import models as volunteers_models  # noqa: F401
from volunteers.panels import models as panels_models  # noqa: F401
from volunteers.partners import models as partners_models  # noqa: F401

metadata = Base.metadata
