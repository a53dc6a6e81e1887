"""Every model, imported once so metadata (and Alembic) see all tables."""
from store.accounts import ApiToken, AuditLog  # noqa: F401
from store.agents import Agent  # noqa: F401
from store.base import Base  # noqa: F401
from store.callbacks import CallAttempt, CallbackTask, CallerCheck, TaskLeg, TeamSupervisor  # noqa: F401
from store.calls import Call, Leg, QueueEntry, SurveyAnswer, WebhookEvent  # noqa: F401
from store.disputes import Dispute  # noqa: F401
from store.flags import Flag  # noqa: F401
from store.followups import Followup, OptOut  # noqa: F401
from store.jobs import Job  # noqa: F401
from store.payroll import ExportFile, PayPeriod, ScorecardCache  # noqa: F401
from store.recordings import Recording  # noqa: F401
from store.rollup import ScorecardCell, ScorecardDay  # noqa: F401
from store.users import Invitation, User  # noqa: F401
