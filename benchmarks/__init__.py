"""`jobber-robot bench`: the robot's speed and memory side by side with its floors (issue 15).

Every variant runs in one process, in one run, against a mock Jobber site and a sandbox gateway
started on this machine (in a child process, so the bench process is the worker alone):

- `world`     the test world: scenario with many merchants, the child process, settings, vault
- `floor`     the HTTP floor: the same Jobber work as direct GraphQL calls with a signed-in cookie
- `variants`  naive robot, cold job, warm job (through the real queue), payment rows, throughput,
              memory
- `stats`     figures: median and p95 of many samples
- `targets`   the issue's targets, each met or missed with its figure
- `report`    rich table, JSON file, matplotlib plot
- `sleeps`    the "no fixed sleeps on any robot path" check (also a test)
- `run`       the plan (`--quick` / full) and its order
"""
