from integrity import merge
from tests.mergeapp.models import Chat, Doc, Membership, Workspace

merge.declare(Workspace, "owner", merge.MergeRecords())
merge.declare(Doc, "workspace", merge.MergeFields(rules={"body": "fill_empty", "words": "sum"}))
merge.declare(Membership, "person", merge.MergeFields(rules={"role": "fill_empty"}))
merge.declare(Chat, "user", merge.Reassign(updates={"status": "merged"}))
