"""
deploy/nginz/values-scim-gateway.yaml: which upstream, with or without zauth, each SCIM and SSO path
reaches through nginz.

Two ways to know nginz's locations, the same checks over both:

- always: from the fragment itself, as nginz's template writes them (wire-server's
  charts/nginz/templates/conf/_nginx.conf.tpl): upstreams in the order of their names, each entry a
  case-insensitive regex location `^(/v[0-9]+)?<path>` (`versioned: false`: without the prefix),
  zauth on unless `disable_zauth`, tried in the order written, the first match winning;
- when SCIM_GATEWAY_TEST_NGINZ_CHART names a copy of wire-server's charts/nginz (e.g. from `helm pull
  wire/nginz --untar`) and helm-python-sdk is installed (.ci/helm-tools): nginz's own nginx.conf,
  rendered by Helm from that chart with the fragment, every location of every upstream parsed out.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.conftest import REPO_ROOT

FRAGMENT = REPO_ROOT / "deploy" / "nginz" / "values-scim-gateway.yaml"
NGINZ_CHART = os.environ.get("SCIM_GATEWAY_TEST_NGINZ_CHART", "")
ENV = "prod"  # nginx_conf.env: entries for `staging` only are left out, as in production

# path -> (upstream, zauth checks a Wire access token)
EXPECTED = {
    "/scim/v2/Users": ("scim-gateway", False),
    "/scim/v2/Users/4f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11": ("scim-gateway", False),
    "/v7/scim/v2/Groups": ("scim-gateway", False),
    "/SCIM/V2/ServiceProviderConfig": ("scim-gateway", False),
    "/scim/auth-tokens": ("scim-gateway", True),
    "/v8/scim/auth-tokens/4f1c2b9e-2a4e-4d0e-9a51-2f1b9b2d7c11": ("scim-gateway", True),
    "/scim/Users": ("scim-gateway", True),  # an IdP given /scim: zauth answers 401 to its SCIM token
    "/scim": ("scim-gateway", True),
    "/identity-providers": ("spar", True),
    "/v7/identity-providers/2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11": ("spar", True),
    "/sso/initiate-login/2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11": ("spar", False),
    "/sso/finalize-login": ("spar", False),
    "/sso/metadata/2d6f7a8e-0a8b-4c4f-9a3e-5b2e1c0d9f11": ("spar", False),
}


@dataclass(frozen=True)
class Location:
    regex: str  # as nginx gets it, after `~*`
    upstream: str | None  # None: answered by nginz itself (a disabled path)
    zauth: bool


def fragment() -> dict[str, Any]:
    values = yaml.safe_load(FRAGMENT.read_text())
    assert isinstance(values, dict)
    return values


def locations_from_fragment(values: dict[str, Any]) -> list[Location]:
    out = []
    for name, entries in sorted(values["nginx_conf"]["upstreams"].items()):
        for entry in entries:
            if "all" in entry["envs"] or ENV in entry["envs"]:
                prefix = "(/v[0-9]+)?" if entry.get("versioned", True) else ""
                out.append(Location(f"^{prefix}{entry['path']}", name, not entry.get("disable_zauth", False)))
    return out


def route(locations: list[Location], path: str) -> Location | None:
    """nginx's choice among regex locations: the first written that matches, case-insensitively."""
    return next((loc for loc in locations if re.search(loc.regex, path, re.IGNORECASE)), None)


def test_the_fragment_routes_each_path_to_its_upstream_with_or_without_zauth() -> None:
    """/scim/v2 to the gateway without zauth, /scim/auth-tokens and /scim with it, SAML routes to spar."""
    locations = locations_from_fragment(fragment())
    routed = {}
    for path in EXPECTED:
        chosen = route(locations, path)
        routed[path] = (chosen.upstream, chosen.zauth) if chosen else None

    assert EXPECTED == routed


def test_spar_keeps_no_scim_route() -> None:
    """No entry left in spar's list matches a /scim path, with or without a version prefix."""
    spar = [loc for loc in locations_from_fragment(fragment()) if loc.upstream == "spar"]

    assert spar
    for path in ("/scim", "/scim/v2/Users", "/v7/scim/auth-tokens", "/scim/Users"):
        assert route(spar, path) is None, path


def test_the_gateways_public_routes_never_take_a_wire_access_token_to_it() -> None:
    """Where zauth is off (IdPs' /scim/v2), the entry limits per client address as spar's does."""
    (v2,) = [e for e in fragment()["nginx_conf"]["upstreams"]["scim-gateway"] if e["path"] == "/scim/v2"]

    assert v2["disable_zauth"] is True
    assert "reqs_per_addr_sso" == v2["specific_user_rate_limit"]


# --- nginz's own nginx.conf, rendered from wire-server's chart -------------------------------------

needs_nginz_chart = pytest.mark.skipif(
    not NGINZ_CHART or importlib.util.find_spec("helm_python") is None,
    reason="set SCIM_GATEWAY_TEST_NGINZ_CHART to wire-server's charts/nginz (helm pull wire/nginz --untar) "
    "and install helm-python-sdk (.ci/helm-tools) to render nginz's own nginx.conf",
)


def rendered_nginx_conf(values: dict[str, Any]) -> str:
    import helm_python

    values = dict(values)
    values["nginx_conf"] = {**values["nginx_conf"], "env": ENV}
    values.setdefault("secrets", {"zAuth": {"publicKeys": "stand-in"}, "basicAuth": "stand-in"})
    with helm_python.Chart.load(NGINZ_CHART) as chart:
        files = chart.render(values, name="nginz", namespace="wire")
    (conf,) = [
        d["data"]["nginx.conf"]
        for d in yaml.safe_load_all(files["nginz/templates/configmap.yaml"])
        if d and "nginx.conf" in (d.get("data") or {})
    ]
    return str(conf)


_LOCATION = re.compile(r"^\s*location ~\* (\S+) \{$", re.MULTILINE)


def locations_from_conf(conf: str) -> list[Location]:
    """Every regex location, in order, with its proxy_pass upstream and whether zauth stays on."""
    out = []
    for match in _LOCATION.finditer(conf):
        block = _block(conf, match.end())
        upstream = re.search(r"proxy_pass\s+http://([\w.-]+);", block)
        out.append(Location(match.group(1), upstream.group(1) if upstream else None, "zauth off;" not in block))
    return out


def _block(conf: str, start: int) -> str:
    """The text from just inside a block's `{` to its matching `}` (nested `if` blocks included)."""
    depth = 1
    for i in range(start, len(conf)):
        depth += {"{": 1, "}": -1}.get(conf[i], 0)
        if depth == 0:
            return conf[start:i]
    raise AssertionError(f"unclosed block at offset {start}")


@needs_nginz_chart
def test_nginz_renders_the_routes_as_the_fragment_says() -> None:
    """In the nginx.conf nginz's chart writes, every path reaches the expected upstream, zauth as expected."""
    conf = rendered_nginx_conf(fragment())
    locations = locations_from_conf(conf)
    routed = {}
    for path in EXPECTED:
        chosen = route(locations, path)
        routed[path] = (chosen.upstream, chosen.zauth) if chosen else None

    assert "upstream scim-gateway {" in conf
    assert re.search(r"server scim-gateway\.wire\.svc\.[\w.]+:8080 ", conf)
    assert EXPECTED == routed


@needs_nginz_chart
def test_spars_list_is_the_charts_without_its_scim_entries() -> None:
    """The fragment's spar list is the nginz chart's own, less /scim/v2 and /scim: nothing else of spar's changes."""
    chart_values = yaml.safe_load((Path(NGINZ_CHART) / "values.yaml").read_text())
    charts_spar = chart_values["nginx_conf"]["upstreams"]["spar"]
    kept = [e for e in charts_spar if not re.match(r"/scim(/|$)", e["path"])]

    assert kept == fragment()["nginx_conf"]["upstreams"]["spar"]
    assert len(kept) < len(charts_spar)
