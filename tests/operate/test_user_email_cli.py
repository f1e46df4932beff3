"""An operator gives accounts the e-mail address single sign-on matches
(`PROCUREMENT_SSO_MATCH=email`, e.g. for Microsoft Entra ID): `users add --email` and
`users set-email`, which stays inside the organisation named and is audited."""

from __future__ import annotations

import io
import sys

import pytest

from procurement.cli import main
from procurement.errors import AuthenticationError
from procurement.runtime import open_services


def test_users_get_the_address_single_sign_on_matches(db_url, monkeypatch, capsys):
    monkeypatch.setenv("PROCUREMENT_DATABASE_URL", db_url)
    assert main(["demo", "seed"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough password\n"))
    assert main(["users", "add", "--org", "demo-city", "--username", "sato", "--display-name",
                 "佐藤 花子", "--roles", "planner", "--password-stdin",
                 "--email", "Sato@City.example.lg.jp"]) == 0
    assert "and e-mail Sato@City.example.lg.jp" in capsys.readouterr().out
    svc = open_services()
    try:
        actor = svc.sign_in_with_identity({"email": "sato@city.example.lg.jp",
                                           "email_verified": True}, match="email", claim="email")
        assert actor.username == "sato"

        assert main(["users", "set-email", "--org", "demo-ministry", "--username", "sato",
                     "--email", "someone@example.go.jp"]) == 1
        assert "no user 'sato' in demo-ministry" in capsys.readouterr().err
        assert main(["users", "set-email", "--org", "demo-city", "--username", "sato",
                     "--email", "not an address"]) == 1
        capsys.readouterr()
        assert main(["users", "set-email", "--org", "demo-city", "--username", "sato",
                     "--email", ""]) == 0
        assert capsys.readouterr().out == "sato: e-mail (none)\n"
        with pytest.raises(AuthenticationError):
            svc.sign_in_with_identity({"email": "sato@city.example.lg.jp", "email_verified": True},
                                      match="email", claim="email")
        assert main(["users", "set-email", "--org", "demo-city", "--username", "city-reviewer",
                     "--email", "caio@city.example.lg.jp"]) == 0
        assert svc.sign_in_with_identity({"email": "caio@city.example.lg.jp"}, match="email",
                                         claim="email").username == "city-reviewer"
    finally:
        svc.engine.dispose()
    assert main(["audit", "verify", "--chain", "demo-city"]) == 0
