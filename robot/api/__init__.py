"""The POS-facing HTTP API (`jobber-robot serve`), in small modules:

- app.py: the app factory (`create_app(settings, routers=[...])`), where other routers mount;
- auth.py: the API key and body limit, before anything is read;
- errors.py: the one error shape and its stable codes;
- idempotency.py: Idempotency-Key as Stripe defines it;
- jobs.py / webhooks.py: the routes; schemas.py: their models (the job: robot/jobs/resource.py);
- openapi.py: the published document and its committed copy (docs/openapi.json).
"""
