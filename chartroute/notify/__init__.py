"""Notifications: a transactional outbox and the channels that deliver it.

- ``outbox.enqueue(conn, config, notices, now)`` — record notices in the caller's transaction
  (sync enqueues work item transitions; an escalation sweep enqueues ``escalated`` notices).
- ``deliver.deliver(engine, config)`` — compose digests and urgent messages, send them, retry
  with backoff, dead-letter, reconcile after a crash.
- ``channels/`` — file, SMTP email, Slack, signed webhook; ``content``/``render`` decide what a
  message may say (identifiers, categories, ages, due dates, links; never PHI).
"""

from chartroute.notify.deliver import DeliverCounts, deliver
from chartroute.notify.outbox import Notice, enqueue, enqueue_transitions

__all__ = ["DeliverCounts", "Notice", "deliver", "enqueue", "enqueue_transitions"]
