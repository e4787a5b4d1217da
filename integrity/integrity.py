"""The integrity app's own declarations: how a merge treats its audit records."""

from integrity import merge
from integrity.models import Quarantine, RepairJournal

# Who resolved a quarantined record, ran or undid a repair: history, kept on the loser's tombstone as it was.
merge.declare(Quarantine, "resolved_by", merge.Keep())
merge.declare(RepairJournal, "actor", merge.Keep())
merge.declare(RepairJournal, "undone_by", merge.Keep())
