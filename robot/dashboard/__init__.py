"""The support dashboard: server-rendered pages under /support/ of `jobber-robot serve`.

Staff sign in (robot/dashboard/staff.py, `jobber-robot staff add`), then see merchants and their
health, jobs with their steps and evidence, the jobs waiting for a person (2FA code, invoice
choice), and steer them (retry, cancel, a merchant's new password or TOTP seed). See
robot/dashboard/app.py for the routes and robot/dashboard/mount.py for how `serve` mounts it.
"""

PREFIX = "/support"
