"""The family teaches Cradle: the retraining job, its state in Redis, and who asks for it.

`job.run` trains candidates on the labels store's training side, scores them and the
serving models on the held-out side, and promotes through the registry only what the
gate allows; `job.status` is what the Teach screen, `cradle models` and the chatbot
tell. The Celery task that runs it lives in workers/training.py.
"""

from services.teach.job import LOCK, Busy, request, run, status

__all__ = ["LOCK", "Busy", "request", "run", "status"]
