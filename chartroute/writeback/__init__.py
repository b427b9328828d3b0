"""Task write-back: each open work item mirrored in the EHR as a FHIR Task, completed on close."""

from chartroute.writeback.mirror import WritebackCounts, mirror_work_items
from chartroute.writeback.task import build_task

__all__ = ["WritebackCounts", "build_task", "mirror_work_items"]
