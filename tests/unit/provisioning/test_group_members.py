"""gateway/provisioning/group_members.py: Wire's rule for group members, which both backends apply."""

from __future__ import annotations

import pytest

from gateway.backend.base import MemberRule
from gateway.provisioning.group_members import MAX_LISTED_IDS, group_members
from gateway.scim.errors import InvalidValue

U1 = "11111111-0000-4000-8000-000000000001"
U2 = "11111111-0000-4000-8000-000000000002"
U3 = "11111111-0000-4000-8000-000000000003"
G1 = "22222222-0000-4000-8000-000000000001"
X1, X2 = "33333333-0000-4000-8000-000000000001", "33333333-0000-4000-8000-000000000002"

RULE: MemberRule = group_members  # what gateway/app.py gives the backends


def refusal(asked: list[str], *, users: set[str], groups: set[str], checked_in_wire: bool = False) -> str:
    with pytest.raises(InvalidValue) as caught:
        RULE(asked, users=users, groups=groups, checked_in_wire=checked_in_wire)
    return caught.value.detail


def test_users_are_stored_in_the_order_asked_and_groups_skipped() -> None:
    """The team's users are kept in the order asked; ids of the team's groups are dropped, not refused."""
    stored = RULE([U3, G1, U1, U2], users={U1, U2, U3}, groups={G1})

    assert (U3, U1, U2) == stored


def test_nothing_asked_is_nothing_stored() -> None:
    assert () == RULE([], users=set(), groups=set())


def test_an_id_that_is_a_user_is_stored_even_if_also_a_group() -> None:
    """Users win: only ids that are groups and not users are skipped."""
    assert (U1,) == RULE([U1], users={U1}, groups={U1})


def test_other_ids_are_refused_by_name_in_the_order_asked() -> None:
    """Ids that are neither users nor groups of the team: 400 invalidValue naming exactly them."""
    detail = refusal([X2, U1, G1, X1], users={U1}, groups={G1})

    assert f"Group members must be SCIM-provisioned users of this team; these are not: {X2}, {X1}" == detail


def test_wires_check_is_named_when_the_users_passed_it() -> None:
    """The brig backend's users also passed Wire's check (managed by SCIM, same team): the detail says so."""
    detail = refusal([X1], users=set(), groups=set(), checked_in_wire=True)

    assert (
        "Group members must be SCIM-provisioned users of this team (as Wire requires: managed by SCIM, "
        f"same team); these are not: {X1}"
    ) == detail


def test_a_user_not_given_as_acceptable_is_refused() -> None:
    """A backend leaves out users it refuses (brig: gone, not managed by SCIM): the rule refuses them."""
    assert U2 in refusal([U1, U2], users={U1}, groups=set())


@pytest.mark.parametrize("count, tail", [(MAX_LISTED_IDS, ""), (MAX_LISTED_IDS + 3, " and 3 more")])
def test_at_most_max_listed_ids_are_named(count: int, tail: str) -> None:
    """The first MAX_LISTED_IDS (20) offending ids are named, then how many more there are."""
    wrong = [f"44444444-0000-4000-8000-{n:012d}" for n in range(count)]

    detail = refusal(wrong, users=set(), groups=set())

    assert detail.endswith(", ".join(wrong[:MAX_LISTED_IDS]) + tail)
    assert wrong[MAX_LISTED_IDS - 1] in detail
    assert all(extra not in detail for extra in wrong[MAX_LISTED_IDS:])
