"""Single sign-on: the local account an organisation's identity provider vouched for.

    actor = svc.sign_in_with_identity(st.user.to_dict(), match="username",
                                      claim="preferred_username", client="203.0.113.5")

The app signs people in through OpenID Connect (Streamlit's `st.login`), then maps one claim of
the ID token to a local account: `preferred_username` to `users.username`, or `email` to
`users.email` (case-insensitive), as configured (`procurement.config.sso_match`,
`sso_claim`). Local accounts stay the source of roles and organisation; the provider only proves
who the person is. The sign-in is recorded like a password sign-in (`auth.signed_in`, with
`method: sso`), and the caller then starts the server-side session (`start_session(via="sso")`),
so the idle timeout and revocation apply as to any other session.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from procurement.db.models import Organisation, User
from procurement.errors import AuthenticationError
from procurement.records.core import ServiceCore, UnitOfWork
from procurement.records.views import Actor, actor_of

#: Why a single sign-on identity is refused (`AuthenticationError.params["reason"]`).
SSO_REFUSALS = ("sso_no_claim", "sso_unverified", "sso_no_account", "sso_ambiguous")


class SingleSignOnService(ServiceCore):
    """Signing in with an identity from the organisation's identity provider."""

    def sign_in_with_identity(self, claims: Mapping[str, Any], *, match: str, claim: str,
                              client: str = "") -> Actor:
        """The active local account whose `match` field (`username` or `email`) equals the
        identity's `claim`; AuthenticationError (reason in SSO_REFUSALS) otherwise.

        An e-mail address the provider says is unverified (`email_verified: false`) is refused:
        whoever can type an address into their profile could otherwise become its owner here.
        """
        value = claims.get(claim)
        if not isinstance(value, str) or not value.strip():
            raise AuthenticationError(f"the identity provider sent no {claim!r} claim",
                                      reason="sso_no_claim", claim=claim)
        value = value.strip()
        if match == "email" and claims.get("email_verified") is False:
            raise AuthenticationError(f"the identity provider has not verified {value!r}",
                                      reason="sso_unverified", claim=claim)
        client = (client or "")[:100]
        with self._transaction() as s:
            if match == "email":
                condition = func.lower(User.email) == value.lower()
            else:
                condition = User.username == value
            users = s.scalars(select(User).where(condition).with_for_update()).all()
            if len(users) > 1:
                raise AuthenticationError(f"several accounts match {claim} {value!r}",
                                          reason="sso_ambiguous", claim=claim)
            if not users or not users[0].is_active:
                raise AuthenticationError(f"no active account matches {claim} {value!r}",
                                          reason="sso_no_account", claim=claim)
            user = users[0]
            org = s.get(Organisation, user.org_id)
            assert org is not None
            now = self.now()
            user.last_login_at = now
            actor = actor_of(user, org)
            UnitOfWork(s, actor, now).audit("auth.signed_in", None, {
                "username": user.username, "client": client, "method": "sso"})
            return actor
