"""spar's keys as the gateway computes them (gateway/backend/spar_state/nameid.py): NameID key and XML, token hash."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from gateway.backend.spar_state.nameid import (
    ASSERTION_NS,
    EMAIL_FORMAT,
    UNSPECIFIED_FORMAT,
    name_id_xml,
    normalized_uname_id,
    token_key,
)


class TestNormalizedUnameId:
    @pytest.mark.parametrize(
        ("external_id", "expected"),
        [
            ("Alice.Smith@Example.COM", "alice.smith@example.com"),
            ("alice", "alice"),
            ("STRASSE", "strasse"),
            ("Straße", "strasse"),  # full case folding, as Data.Text.toCaseFold: ß -> ss
            ("ΟΔΥΣΣΕΎΣ", "οδυσσεύσ"),  # a final sigma folds like any other
            ("ǅemal", "ǆemal"),  # a title-case letter folds too
        ],
    )
    def test_the_key_is_the_case_folded_text(self, external_id: str, expected: str) -> None:
        """normalizeQualifiedNameId case-folds the NameID's text; an email NameID renders as the address."""
        assert expected == normalized_uname_id(external_id)

    def test_names_that_differ_only_in_case_share_a_key(self) -> None:
        """Two spellings of one NameID find the same user_v2 row."""
        assert normalized_uname_id("Bob@EXAMPLE.com") == normalized_uname_id("bob@example.COM")


class TestNameIdXml:
    @pytest.mark.parametrize(
        ("external_id", "format"),
        [("me@example.com", EMAIL_FORMAT), ("jdoe", UNSPECIFIED_FORMAT), ("a b@x", UNSPECIFIED_FORMAT)],
    )
    def test_the_format_follows_the_text(self, external_id: str, format: str) -> None:
        """An email address gets the emailAddress format, anything else unspecified (mkValidScimId)."""
        element = ET.fromstring(name_id_xml(external_id))

        assert (f"{{{ASSERTION_NS}}}NameID", format, external_id) == (
            element.tag,
            element.attrib["Format"],
            element.text,
        )

    def test_the_golden_form_of_an_email_name_id(self) -> None:
        """Byte for byte what encodeElem writes (libs/wire-api/test/golden/testObject_UserSSOId_user_2.json)."""
        golden = (
            '<NameID xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
            'xmlns:samla="urn:oasis:names:tc:SAML:2.0:assertion" '
            'xmlns:samlm="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
            'Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress" '
            'xmlns="urn:oasis:names:tc:SAML:2.0:assertion">me@example.com</NameID>'
        )

        assert golden == name_id_xml("me@example.com")

    def test_markup_in_the_text_is_escaped(self) -> None:
        """A NameID holding <, > or & stays one element whose text is the externalId."""
        text = "<b>&co</b>"

        assert text == ET.fromstring(name_id_xml(text)).text


class TestTokenKey:
    def test_the_key_is_sha512_in_base64_with_its_prefix(self) -> None:
        """hashScimToken: SHA-512 of the UTF-8 bytes (FIPS 180-2 vector for "abc"), base64, after `sha512:`."""
        abc = bytes.fromhex(
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )

        assert "sha512:" + base64.b64encode(abc).decode() == token_key("abc")

    def test_the_key_never_holds_the_token(self) -> None:
        """The stored key does not contain the token, and different tokens have different keys."""
        assert "secret" not in token_key("secret")
        assert token_key("secret") != token_key("Secret")
