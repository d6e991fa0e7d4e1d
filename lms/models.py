"""Every model module, imported in one place so Alembic and the app see the whole schema."""
from lms.assignments import models as assignments  # noqa: F401
from lms.auth import models as auth  # noqa: F401
from lms.catalog import models as catalog  # noqa: F401
from lms.credentials import models as credentials  # noqa: F401
from lms.grading import models as grading  # noqa: F401
from lms.jobs import models as jobs  # noqa: F401
from lms.portfolio import models as portfolio  # noqa: F401
from lms.records import models as records  # noqa: F401
from lms.uploads import models as uploads  # noqa: F401
from lms.video import models as video  # noqa: F401
from lms.community import models as community  # noqa: F401
from lms.notifications import models as notifications  # noqa: F401
