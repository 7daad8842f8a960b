"""Imports every domain's models so `Base.metadata` is complete (Alembic, tests)."""

from backend.accounts import models as accounts_models  # noqa: F401
from backend.accounts import sso_models  # noqa: F401
from backend.audit import models as audit_models  # noqa: F401
from backend.catalogue import models as catalogue_models  # noqa: F401
from backend.credits import certificate_models  # noqa: F401
from backend.credits import models as credits_models  # noqa: F401
from backend.kit import ratelimit  # noqa: F401
from backend.kit.models import Base
from backend.learning import models as learning_models  # noqa: F401
from backend.media import models as media_models  # noqa: F401
from backend.people import models as people_models  # noqa: F401
from backend.policies import models as policies_models  # noqa: F401
from backend.quizzes import models as quizzes_models  # noqa: F401
from backend.training import models as training_models  # noqa: F401

metadata = Base.metadata
