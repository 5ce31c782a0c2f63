"""
Wire's rule for the members of a SCIM Group, written once for both backends: a member must be a
SCIM user of the group's team; ids of the team's groups are skipped (Entra sends a nested group
as a member, and Wire user groups hold users only); any other id is a 400 invalidValue naming at
most MAX_LISTED_IDS of them. brig refuses the same ids (`user-group-invalid`, "Only team members
of the same team can be added to a user group.", libs/wire-api/src/Wire/API/Error/Brig.hs) and
spar checks first that the users it adds are `managed_by: scim` and in the team
(libs/wire-subsystems/src/Wire/ScimSubsystem/Interpreter.hs, `scimUpdateUserGroupImpl`).

Why the rule is passed down to the backends (a `MemberRule`, the protocol of
gateway/backend/base.py; gateway/app.py hands `group_members` to the backend it makes) rather
than the backends handing the facts up to the service:

- The embedded backend checks the members and writes them in one transaction: on PostgreSQL the
  users found are held `FOR KEY SHARE` until the membership rows are committed, so that a user
  deleted meanwhile cannot be left behind as a member (gateway/backend/embedded/groups.py).
  Facts read in one unit of work and written in another would lose that, or need a second
  transaction per edit.
- The brig backend learns the facts while it plans an edit (its mirror, then one
  `GET /i/users?ids=` per 100 new members, forgetting users brig let go) and may plan again
  when the group moved; asking the service in between would add a round trip per plan, and the
  brig calls each SCIM operation makes are counted (docs/backend-calls.md, "Groups").

A pure function keeps both: the backend does the reads where they belong and the rule decides.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from gateway.scim.errors import InvalidValue

MAX_LISTED_IDS = 20  # offending ids named in an error detail


def group_members(
    asked: Sequence[str], *, users: Collection[str], groups: Collection[str], checked_in_wire: bool = False
) -> tuple[str, ...]:
    """
    The ids of `asked` to store, in its order: the ids in `users` (the team's users the backend
    accepts as members); ids in `groups` (the team's groups) are skipped. Any other id raises
    InvalidValue naming it. `checked_in_wire`: the users also passed Wire's own check (alive in
    brig, in the team, managed by SCIM), and the detail says so.
    """
    wrong = [member for member in asked if member not in users and member not in groups]
    if wrong:
        wire = " (as Wire requires: managed by SCIM, same team)" if checked_in_wire else ""
        raise InvalidValue(
            f"Group members must be SCIM-provisioned users of this team{wire}; these are not: {_listed(wrong)}"
        )
    return tuple(member for member in asked if member in users)


def _listed(ids: Sequence[str]) -> str:
    """The first MAX_LISTED_IDS ids, and how many more there are."""
    listed = ", ".join(ids[:MAX_LISTED_IDS])
    return listed + (f" and {len(ids) - MAX_LISTED_IDS} more" if len(ids) > MAX_LISTED_IDS else "")
