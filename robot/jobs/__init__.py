"""Jobs: the models (models.py) and the durable job queue on DBOS Transact.

    POS back end ── POST /jobs (serve, intake.py) ─┐
    jobber-robot enqueue <kind> ... ───────────────┼─▶ queue "jobs" (queue.py): one partition per
    jobber-robot charge|refund|... / demo ─────────┘   merchant (concurrency 1, FIFO), global limit
                                                       JOBBER_ROBOT_QUEUE_CONCURRENCY
    jobber-robot worker (worker.py) ── job_workflow (workflows.py): the flow's stages are DBOS steps
                                      ├─ 2FA code / invoice choice from a person (handoff.py)
                                      └─ result: JobResult, read by `jobs list|show` (store.py)
    schedule (scheduled.py): link reconcile + ACH return checks per merchant every N minutes

Job store: SQLite file DATA_DIR/jobs.sqlite (0600) by default; Postgres when
JOBBER_ROBOT_DATABASE_URL is set (several workers, each with its own --worker-id).
Job ids are workflow ids; a caller's Idempotency-Key (or --job-id) names the same job again.
"""
