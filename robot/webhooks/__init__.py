"""Webhooks: the robot tells the POS back end when a job ends or needs a person.

    capture (events.py) ── event row + one delivery workflow per subscribed endpoint, queued on
                           the DBOS queue "webhooks" in the same transaction-safe way as a job
    delivery.py          ── durable DBOS workflow: sign, POST, log the attempt; on failure a
                           durable sleep (exponential back-off) and again, so a killed worker
                           resumes the delivery where it stopped (at least once)
    endpoints.py         ── endpoints registered per installation (API and CLI); each has its own
                           signing secret, stored sealed with the vault key
    signing.py           ── `Jobber-Robot-Signature: t=...,v1=...` and the verification helper
"""
