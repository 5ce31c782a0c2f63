"""
brig-lite: the brig and galley internal routes that spar uses for SCIM (docs/wire.md §6.1, §6.2
and §6.4), served over HTTP on one listener and kept in a SQLite file of its own, so that the
gateway's brig backend can be tried, tested and benchmarked without a Wire installation.

    wire_json.py     Wire's JSON shapes: User, UserGroup, RichInfo, Locale, email keys, the error body
    sso_id.py        brig's UserSSOId: SAML Issuer (a URI) and NameID, or scim_external_id
    schema.py        brig-lite's own tables and their migrations
    accounts.py      accounts, invitations, email keys, team members: SQL on one connection (no I/O of its own)
    brig_routes.py   brig's /i/users... handlers      galley_routes.py  galley's /i/teams... handlers
    user_groups.py   brig's user groups, as SQL       group_routes.py   brig's /i/user-groups... handlers
    idps.py          spar's IdPs, as SQL     spar_routes.py    spar's GET /i/identity-providers/:tid
    faults.py        fault injection for tests (config and PUT /i/_faults)
    app.py           create_brig_lite_app(settings), serve_brig_lite(), add_member(), add_idp(),
                     accept_invitation() and POST /i/_brig-lite/invitations/{uid}/accept
"""
