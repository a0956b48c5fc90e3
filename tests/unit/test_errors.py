"""The one error tree (robot/errors.py): every error the robot raises is in it, the tree drawn in its
docstring is the real one with the real outcomes, and every error survives the job store."""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

import flows
import robot
from robot import errors
from robot.errors import RobotError
from robot.jobs.models import Candidate
from robot.outcomes import Outcome


def _all_modules() -> None:
    for pkg in (robot, flows):
        for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
            if info.name != "robot.__main__":
                importlib.import_module(info.name)


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def _error_classes() -> list[type[RobotError]]:
    return [RobotError, *[c for c in _subclasses(RobotError) if c.__module__ == "robot.errors"]]


#: constructor arguments of the classes whose first argument is not their message
_ARGS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "InputError": (("amount", "must be greater than 0"), {}),
    "LockedOut": (("locked for 15 minutes",), {"until": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)}),
    "PageDriftError": (("invoice", "collect_payment", "Collect Payment button"), {"url": "https://x/invoices/1"}),
    "NeedsConfirmation": (("two open invoices",), {"candidates": [
        Candidate(invoice=7, invoice_id=70, total=Decimal("10.00"), balance=Decimal("5.00"), status="past_due")]}),
    "Declined": (("card declined",), {"reason": "insufficient_funds", "transaction_id": "txn_1"}),
    "InvalidRequest": (("cvv", "cvv: must be 3 or 4 digits"), {}),
    "RefundExceedsRefundable": (("too much",), {"refundable": Decimal("4.00")}),
    "AchReturned": (("returned",), {"r_code": "R01"}),
    "JobFenced": (("job-1", "superseded", "another worker owns it"), {}),
}


def _sample(cls: type[RobotError]) -> RobotError:
    args, kwargs = _ARGS.get(cls.__name__, ((f"{cls.__name__} happened",), {}))
    return cls(*args, **kwargs)


def test_every_robot_error_is_defined_in_robot_errors() -> None:
    _all_modules()
    elsewhere = sorted(f"{c.__module__}.{c.__qualname__}" for c in _subclasses(RobotError)
                       if c.__module__ != "robot.errors" and not c.__module__.startswith("tests."))
    assert elsewhere == [], "define robot errors in robot/errors.py (and draw them in its tree)"


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_survives_the_job_store(cls: type[RobotError]) -> None:
    """DBOS keeps a step's or a job's exception pickled: it must come back as itself."""
    err = _sample(cls)
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert str(back) == str(err) and back.message == err.message and back.args == err.args
    assert back.__dict__ == err.__dict__ and back.to_dict() == err.to_dict()
    assert back.code == cls.code and back.job_outcome is cls.job_outcome
    assert back.support_message == err.support_message


def _drawn_tree() -> dict[str, tuple[str | None, str | None]]:
    """name → (parent, outcome written on its line or None) as the docstring draws it."""
    drawn: dict[str, tuple[str | None, str | None]] = {}
    parents: list[str] = []
    outcomes = {o.value for o in Outcome} | {"(none)"}
    for line in (errors.__doc__ or "").splitlines():
        m = re.match(r"^    ((?:[│ ]   )*)(?:[├└]── )?([A-Z]\w*(?: \(\w+\))?(?:, [A-Z]\w*)*)(?:\s{2,}(\S+))?", line)
        if not m or ("──" not in line and not line.startswith("    RobotError")):
            continue
        depth = len(m.group(1)) // 4 + (1 if "──" in line else 0)
        names = [re.sub(r" \(\w+\)$", "", n) for n in m.group(2).split(", ")]
        outcome = m.group(3) if m.group(3) in outcomes else None
        del parents[depth:]
        parent = parents[-1] if parents else None
        for name in names:
            drawn[name] = (parent, outcome)
        parents.append(names[0])
    return drawn


def test_the_docstring_draws_the_real_tree_with_the_real_outcomes() -> None:
    drawn = _drawn_tree()
    classes = {c.__name__: c for c in _error_classes()}
    assert sorted(drawn) == sorted(classes), "every error class is drawn, once"
    for name, (parent, outcome) in drawn.items():
        cls = classes[name]
        if parent is not None:
            assert parent in [b.__name__ for b in cls.__bases__], f"{name} is drawn under {parent}"
        if outcome == "(none)":
            continue
        expected = Outcome(outcome) if outcome else classes[parent or "RobotError"].job_outcome
        assert cls.job_outcome is expected, f"{name} ends a job {cls.job_outcome.value}, drawn {outcome}"


def test_messages_are_scrubbed_once_for_every_error() -> None:
    card = "4111 1111 1111 1111"
    for cls in _error_classes():
        params = list(inspect.signature(cls.__init__).parameters)
        if params[1] != "message":
            continue
        args, kwargs = _ARGS.get(cls.__name__, (("",), {}))
        err = cls(f"the client typed {card} into Details", *args[1:], **kwargs)
        assert card not in err.message and card not in err.support_message, cls


def test_a_message_ending_in_a_full_stop_reads_as_one_sentence() -> None:
    from robot.errors import Declined

    text = Declined("Your card was declined.", reason="do_not_honor").support_message
    assert ".;" not in text and text.startswith("declined (do not honor): Your card was declined; nothing")
