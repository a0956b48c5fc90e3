"""Fixture pages: record a scenario against a Jobber site, scrubbed; replay it with no server.

- `scrub`: the scrubber (secrets and personal data → stable fakes) every written byte goes through;
- `har`: the recording's files (HAR, gateway exchanges, page snapshots), written stably;
- `record`: the browser / gateway / snapshot recorders and `record_scenario`;
- `replay`: the replay router (route_from_har + GraphQL matched on operation and variables) and
  `replay_scenario`;
- `offline`: `selectors check --fixtures` against the snapshots; `suggest`: repair candidates.

Nothing here is imported by a flow: a money-moving flow never uses a suggested selector.
"""
