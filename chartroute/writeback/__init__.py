"""FHIR Task write-back: each open work item mirrored in the EHR as a Task, completed on close."""

from chartroute.writeback.fhir_task import build_fhir_task
from chartroute.writeback.mirror import WritebackCounts, mirror_work_items

__all__ = ["WritebackCounts", "build_fhir_task", "mirror_work_items"]
