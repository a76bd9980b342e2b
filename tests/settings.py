"""Settings for the test suite: the service's own, in a throw-away data directory.

``INUK_DATABASE_URL`` / ``INUK_VAULT_DATABASE_URL`` pointing at PostgreSQL run the
same suite there (``.ci/run`` does both).
"""

import os
import tempfile

os.environ.setdefault("INUK_DATA_DIR", tempfile.mkdtemp(prefix="inuk-test-"))

_ON_POSTGRESQL = any(
    os.environ.get(name, "").startswith("postgres")
    for name in ("INUK_DATABASE_URL", "INUK_VAULT_DATABASE_URL")
)
if _ON_POSTGRESQL and not ({"INUK_VAULT_KEY", "INUK_VAULT_KEY_FILE"} & os.environ.keys()):
    # On PostgreSQL the vault needs a keyring of the deployment's (check inuk.E003): the
    # suite makes one up, in the environment so that worker processes it starts share it.
    from inuk.vault.keys import generate

    os.environ["INUK_VAULT_KEY"] = generate()

from inuk.settings import *  # noqa: E402, F403
from inuk.settings import DATA_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

for _alias, _config in DATABASES.items():
    if _config["ENGINE"] == "django.db.backends.sqlite3":
        # Files, not memory: worker processes started by tests must see the same data.
        _config["TEST"] = {"NAME": str(DATA_DIR / f"test-{_alias}.sqlite3")}
