"""Every table of the portal: imports each domain's models so `Base.metadata` is complete (Alembic, tests).

It lives at the app level, beside `backend/app.py`, because it names every domain; `backend.kit` (the ground floor)
imports none.
"""

from backend.accounts import models as accounts_models  # noqa: F401
from backend.accounts import sso_models  # noqa: F401
from backend.audit import models as audit_models  # noqa: F401
from backend.catalogue import models as catalogue_models  # noqa: F401
from backend.credits import certificate_models  # noqa: F401
from backend.credits import models as credits_models  # noqa: F401
from backend.dashboards import models as dashboards_models  # noqa: F401
from backend.kit import ratelimit  # noqa: F401
from backend.kit.models import Base
from backend.learning import models as learning_models  # noqa: F401
from backend.media import models as media_models  # noqa: F401
from backend.notices import models as notices_models  # noqa: F401
from backend.organisation import models as organisation_models  # noqa: F401
from backend.people import models as people_models  # noqa: F401
from backend.policies import models as policies_models  # noqa: F401
from backend.quizzes import models as quizzes_models  # noqa: F401
from backend.training import models as training_models  # noqa: F401

metadata = Base.metadata
