"""A replay's outcome comparison must not depend on which secrets this process has registered."""
from robot.logging import redact_text, register_secret
from robot.replay.runner import comparable


def test_a_registered_code_masks_both_sides_alike() -> None:
    recorded = {"job_id": "j-1", "message": "voided txn_0000000000000001 ($50.00)"}
    replayed = {"job_id": "j-1", "message": "voided txn_0000000000000001 ($50.00)"}
    register_secret("000000")  # another test's one-time code, as in a full run
    assert comparable(recorded) == comparable(replayed)
    assert "000000" not in comparable(replayed)["message"]


def test_a_masked_error_message_compares_with_its_unmasked_recording() -> None:
    register_secret("000000")
    raw = {"job_id": "j-2", "message": "the gateway moved the money (transaction txn_0000000000000001)"}
    masked_at_raise = {"job_id": "j-2", "message": redact_text(raw["message"])}  # as an error is raised
    assert comparable(raw) == comparable(masked_at_raise)
