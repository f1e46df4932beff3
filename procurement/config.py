"""Settings from the environment: where the database, the rule packs and the app's files are.

One place reads the environment so that the CLI, the app and the tests agree.

Two layouts, one set of answers:

* a source checkout (an editable install, or the repository on `PYTHONPATH`): `app.py`,
  `.streamlit/config.toml` and `rules/` are read from the repository's top level, and the
  default database is `data/procurement.sqlite` in it;
* an installed package (`pip install <repo>`): the build copied those same files into the
  package (`procurement/_shipped/`, see setup.py), and the default database lives in the user's
  data folder (platformdirs), since site-packages is no place for data.
"""

from __future__ import annotations

import os
from pathlib import Path

#: The folder holding the `procurement` package: the repository root in a source checkout.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Where an installed package carries the repository's top-level app files (written by the
#: build, never present in a checkout).
SHIPPED_DIR = Path(__file__).resolve().parent / "_shipped"
#: The application name for the per-user data folder of an installed package.
APP_NAME = "procurement"


def is_installed_copy() -> bool:
    """Whether this is an installed package carrying its own app files (not a checkout)."""
    return (SHIPPED_DIR / "app.py").is_file()


def app_dir() -> Path:
    """The folder holding `app.py`, `.streamlit/config.toml` and the shipped `rules/`: the
    repository in a checkout, the package's copy when installed."""
    return SHIPPED_DIR if is_installed_copy() else PROJECT_ROOT


def app_script() -> Path:
    """The Streamlit entry script (`procurement serve` runs it; `streamlit run app.py` too)."""
    return app_dir() / "app.py"


def shipped_rules_dir() -> Path:
    """The rule packs shipped with this version (the repository's `rules/` in a checkout)."""
    return app_dir() / "rules"


def rules_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The folder searched (recursively) for rule packs: `override` (`--rules-dir`), else
    `PROCUREMENT_RULES_DIR`, else the shipped packs."""
    if override:
        return Path(override)
    env = os.environ.get("PROCUREMENT_RULES_DIR")
    return Path(env) if env else shipped_rules_dir()


def data_dir() -> Path:
    """Where the default SQLite database lives: `data/` of the repository in a checkout, the
    user's data folder for an installed package (e.g. `~/.local/share/procurement` on Linux,
    `%LOCALAPPDATA%\\procurement` on Windows)."""
    if not is_installed_copy():
        return PROJECT_ROOT / "data"
    import platformdirs

    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def default_database_url() -> str:
    """The SQLite file used when `PROCUREMENT_DATABASE_URL` is not set."""
    return f"sqlite:///{data_dir() / 'procurement.sqlite'}"


def database_url(override: str | None = None) -> str:
    """The SQLAlchemy URL: `override`, else `PROCUREMENT_DATABASE_URL`, else the default SQLite
    file (`default_database_url()`)."""
    if override:
        return override
    env = os.environ.get("PROCUREMENT_DATABASE_URL")
    if env:
        return env
    return default_database_url()


#: Seconds a SQLite connection waits for another writer before "database is locked".
DEFAULT_SQLITE_BUSY_TIMEOUT_S = 30.0


def _env_number(name: str, default: float, low: float, high: float, unit: str, *,
                above_low: bool = False) -> float:
    """A number from the environment variable `name` (`default` when unset), within
    [low, high] (or (low, high] with `above_low`); otherwise an error naming the variable."""
    from procurement.errors import InputError

    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = low - 1.0
    if not (low < value if above_low else low <= value) or value > high:
        raise InputError(f"{name}={raw!r} must be a number of {unit} between {low:g} and "
                         f"{high:g}", field=name, value=raw)
    return value


def sqlite_busy_timeout() -> float:
    """`PROCUREMENT_SQLITE_BUSY_TIMEOUT` (seconds), else 30: how long a SQLite writer waits for
    another writer. A bad value is an error naming the variable."""
    return _env_number("PROCUREMENT_SQLITE_BUSY_TIMEOUT", DEFAULT_SQLITE_BUSY_TIMEOUT_S, 0, 3600,
                       "seconds")


#: Idle minutes after which a signed-in session ends (default).
DEFAULT_SESSION_TIMEOUT_MINUTES = 30.0


def session_timeout_minutes() -> float:
    """`PROCUREMENT_SESSION_TIMEOUT_MINUTES`, else 30: idle minutes before a session ends."""
    return _env_number("PROCUREMENT_SESSION_TIMEOUT_MINUTES", DEFAULT_SESSION_TIMEOUT_MINUTES,
                       0, 24 * 60, "minutes", above_low=True)


# --- single sign-on (OpenID Connect through Streamlit's st.login) -----------------------------

#: st.login's `[auth]` keys -> the environment variables that set them when single sign-on is
#: configured through the environment instead of `.streamlit/secrets.toml`.
OIDC_ENV = {
    "server_metadata_url": "PROCUREMENT_OIDC_METADATA_URL",
    "client_id": "PROCUREMENT_OIDC_CLIENT_ID",
    "client_secret": "PROCUREMENT_OIDC_CLIENT_SECRET",
    "redirect_uri": "PROCUREMENT_OIDC_REDIRECT_URI",
    "cookie_secret": "PROCUREMENT_OIDC_COOKIE_SECRET",
}
#: What a single sign-on identity is matched against: a local account's username or e-mail.
SSO_MATCHES = ("username", "email")
DEFAULT_SSO_MAX_AGE_SECONDS = 120.0


def oidc_auth_section() -> dict[str, object] | None:
    """The `[auth]` section for `st.login` from the `PROCUREMENT_OIDC_*` variables, or None when
    none is set (then `.streamlit/secrets.toml` may configure single sign-on, or nothing does).

    `PROCUREMENT_OIDC_PROMPT` (default `login`: the provider asks for the password on every
    sign-in, so that its `auth_time` is fresh; empty: Streamlit's default `select_account`) and
    `PROCUREMENT_OIDC_SCOPE` (default `openid profile email`) go to `client_kwargs`. A partial
    configuration is an error naming what is missing."""
    from procurement.errors import InputError

    values = {key: os.environ.get(var, "").strip() for key, var in OIDC_ENV.items()}
    if not any(values.values()):
        return None
    missing = [OIDC_ENV[key] for key, value in values.items() if not value]
    if missing:
        raise InputError("single sign-on is partly configured: set " + ", ".join(missing)
                         + " (or unset every PROCUREMENT_OIDC_* variable)",
                         field="PROCUREMENT_OIDC", value=",".join(missing))
    client_kwargs: dict[str, str] = {}
    prompt = os.environ.get("PROCUREMENT_OIDC_PROMPT", "login").strip()
    if prompt:
        client_kwargs["prompt"] = prompt
    scope = os.environ.get("PROCUREMENT_OIDC_SCOPE", "").strip()
    if scope:
        client_kwargs["scope"] = scope
    return {**values, "client_kwargs": client_kwargs}


def sso_match() -> str:
    """`PROCUREMENT_SSO_MATCH`: `username` (default) or `email`, the local account field a
    single sign-on identity is matched against."""
    from procurement.errors import InputError

    value = os.environ.get("PROCUREMENT_SSO_MATCH", "").strip() or "username"
    if value not in SSO_MATCHES:
        raise InputError(f"PROCUREMENT_SSO_MATCH={value!r} must be one of "
                         f"{', '.join(SSO_MATCHES)}", field="PROCUREMENT_SSO_MATCH", value=value)
    return value


def sso_claim() -> str:
    """`PROCUREMENT_SSO_CLAIM`: the ID-token claim holding the value matched (default
    `preferred_username` for usernames, `email` for e-mail addresses)."""
    value = os.environ.get("PROCUREMENT_SSO_CLAIM", "").strip()
    return value or ("email" if sso_match() == "email" else "preferred_username")


def sso_max_age_seconds() -> float:
    """`PROCUREMENT_SSO_MAX_AGE_SECONDS`, else 120: how recent the provider's sign-in must be
    (its `auth_time`, else the token's `iat`) for the app to start a session from it.
    Streamlit keeps the identity cookie for 30 days; without this limit it would silently undo
    the app's idle timeout."""
    return _env_number("PROCUREMENT_SSO_MAX_AGE_SECONDS", DEFAULT_SSO_MAX_AGE_SECONDS, 10, 3600,
                       "seconds")
