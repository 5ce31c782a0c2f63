"""
Every CQL statement the gateway runs on spar's keyspace, each copied from the spar function that
runs it (wire-server, services/spar/src/Spar/Sem/<Store>/Cassandra.hs), with the same columns,
order and consistency (spar writes and reads all of them at LOCAL_QUORUM; `spar_state.consistency`
can change that). Token writes go in LOGGED batches, as spar's do.
"""

from __future__ import annotations

# --- SAMLUserStore/Cassandra.hs -------------------------------------------------------------
# insertSAMLUser
SAML_USER_INSERT = "INSERT INTO user_v2 (issuer, normalized_uname_id, sso_id, uid) VALUES (?, ?, ?, ?)"
# getSAMLUser (getSAMLUserNew)
SAML_USER_SELECT = "SELECT uid FROM user_v2 WHERE issuer = ? AND normalized_uname_id = ?"
# getSAMLUser (getSAMLUserLegacy): the table before V15, still read (and migrated) by spar
SAML_USER_SELECT_LEGACY = "SELECT uid FROM user WHERE issuer = ? AND sso_id = ?"
# deleteSAMLUser (deleteSAMLUserNew, deleteSAMLUserLegacy)
SAML_USER_DELETE = "DELETE FROM user_v2 WHERE issuer = ? AND normalized_uname_id = ?"
SAML_USER_DELETE_LEGACY = "DELETE FROM user WHERE issuer = ? AND sso_id = ?"

# --- ScimExternalIdStore/Cassandra.hs -------------------------------------------------------
# insertScimExternalId: leaves creation_status as it was
EXTERNAL_ID_INSERT = "INSERT INTO scim_external (team, external_id, user) VALUES (?, ?, ?)"
# insertScimExternalIdStatus
EXTERNAL_ID_INSERT_STATUS = "INSERT INTO scim_external (team, external_id, user, creation_status) VALUES (?, ?, ?, ?)"
# lookupScimExternalIdStatus (lookupScimExternalId reads the same row's user)
EXTERNAL_ID_SELECT = "SELECT user, creation_status FROM scim_external WHERE team = ? and external_id = ?"
# deleteScimExternalId
EXTERNAL_ID_DELETE = "DELETE FROM scim_external WHERE team = ? and external_id = ?"

# --- ScimUserTimesStore/Cassandra.hs --------------------------------------------------------
# writeScimUserTimes
USER_TIMES_INSERT = "INSERT INTO scim_user_times (uid, created_at, last_updated_at) VALUES (?, ?, ?)"
# readScimUserTimes
USER_TIMES_SELECT = "SELECT created_at, last_updated_at FROM scim_user_times WHERE uid = ?"
# deleteScimUserTimes
USER_TIMES_DELETE = "DELETE FROM scim_user_times WHERE uid = ?"

# --- ScimTokenStore/Cassandra.hs ------------------------------------------------------------
# insertScimToken (insByToken, insByTeam), in one LOGGED batch
TOKEN_INSERT_BY_TOKEN = (
    "INSERT INTO team_provisioning_by_token (token_, team, id, created_at, idp, descr, name) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
TOKEN_INSERT_BY_TEAM = (
    "INSERT INTO team_provisioning_by_team (token_, team, id, created_at, idp, descr, name) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
# lookupScimToken: by the hashed key and by the token itself (rows from before hashing)
TOKEN_SELECT = (
    "SELECT token_, team, id, created_at, idp, descr, name FROM team_provisioning_by_token WHERE token_ in (?, ?)"
)
# getScimTokens
TOKENS_OF_TEAM = "SELECT token_, team, id, created_at, idp, descr, name FROM team_provisioning_by_team WHERE team = ?"
# deleteScimToken, updateScimTokenName (selById)
TOKEN_KEY_BY_ID = "SELECT token_ FROM team_provisioning_by_team WHERE team = ? AND id = ?"
# deleteScimToken (delById, delByTokenLookup), in one LOGGED batch; connvertPlaintextToken too
TOKEN_DELETE_BY_ID = "DELETE FROM team_provisioning_by_team WHERE team = ? AND id = ?"
TOKEN_DELETE_BY_KEY = "DELETE FROM team_provisioning_by_token WHERE token_ = ?"
# deleteTeamScimTokens (sel, delByTeam)
TOKEN_KEYS_OF_TEAM = "SELECT token_ FROM team_provisioning_by_team WHERE team = ?"
TOKENS_DELETE_TEAM = "DELETE FROM team_provisioning_by_team WHERE team = ?"
# updateScimTokenName (updateNameById, updateNameByTokenLookup)
TOKEN_RENAME_BY_ID = "UPDATE team_provisioning_by_team SET name = ? WHERE team = ? AND id = ?"
TOKEN_RENAME_BY_KEY = "UPDATE team_provisioning_by_token SET name = ? WHERE token_ = ?"

ALL = {name: value for name, value in globals().items() if name.isupper() and isinstance(value, str)}
