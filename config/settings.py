"""SIG Hub settings, read from the environment.

Development needs no configuration: SQLite in ``db.sqlite3``, mail printed to
the console, background tasks run immediately. Production sets ``DEBUG=0``,
``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL`` and the SMTP settings for
the NHSmail relay (see README.md).
"""

import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

if sys.version_info < (3, 12):  # noqa: UP036 - a clear message for the wrong Python
    raise ImproperlyConfigured(
        "SIG Hub needs Python 3.12 or newer (Django 6.1 does). "
        "Run `make install`, which uses the .python-version file, or install Python 3.12."
    )


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean environment variable: 1/true/yes/on are true, 0/false/no/off false.

    Raises ImproperlyConfigured for any other value, so a typo never silently
    flips a setting.
    """
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0), not {raw!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated environment variable as a list of stripped, non-empty items."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    """Read an integer environment variable; ImproperlyConfigured if it is not one."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from exc


DEBUG = env_bool("DEBUG", True)
TESTING = "pytest" in sys.modules or env_bool("SIGHUB_TESTING", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off SIG Hub will not start without one: "
            'set SECRET_KEY to a long random value, for example the output of python -c '
            '"import secrets; print(secrets.token_urlsafe(50))".'
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# The public address of the site, used in emails and calendar feeds (no trailing slash).
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "anymail",
    "django_tasks_db",
    "members",
    "events",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A malformed body posted to an ESP webhook (/anymail/...) is a 400, not a 500.
    "members.mail.webhooks.AnymailMalformedBodyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "members.context_processors.network",
            ],
        },
    },
]

# Database: SQLite file by default; DATABASE_URL=postgres://... in production and CI.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Two requests writing at once (a double-clicked form, two people answering)
    # queue for the write lock instead of failing with "database is locked":
    # every transaction takes the lock when it begins (IMMEDIATE) and waits up to
    # 20 s for it, and WAL lets pages be read while another request writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "members.Person"
# Django's and allauth's, reading the signed-in person through the pages cache.
SESSION_ENGINE = "members.sessions"
AUTHENTICATION_BACKENDS = [
    "members.auth_backends.ModelBackend",
    "members.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "members:my_memberships"

LANGUAGE_CODE = "en-gb"
# Stored in UTC (USE_TZ), shown in Europe/London.
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Papers are private: kept outside MEDIA/STATIC and served only through a view
# that checks who is asking (events.views_agenda.paper_download).
PRIVATE_FILES_ROOT = Path(os.environ.get("PRIVATE_FILES_ROOT", BASE_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "papers": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_FILES_ROOT, "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Mail -------------------------------------------------------------------
# Every message is From the network's NHSmail mailbox (NHSmail deletes mail
# from the internet claiming an @nhs.net sender, so production mail must leave
# through NHSmail's relay with an application account, or Microsoft Graph).
NETWORK_MAILBOX = os.environ.get("NETWORK_MAILBOX", "dgft.wmimagingnetwork@nhs.net")
NETWORK_MAILBOX_NAME = os.environ.get("NETWORK_MAILBOX_NAME", "West Midlands Imaging Network")

# MAIL_TRANSPORT picks how mail leaves (members/mail/transports.py):
#   smtp     Django's SMTP backend to the NHSmail relay (EMAIL_HOST..., 587 + STARTTLS)
#   graph    Microsoft Graph sendMail as NETWORK_MAILBOX (GRAPH_* app registration)
#   anymail  an ESP through django-anymail (ANYMAIL_ESP, ANYMAIL_* settings), From
#            MAIL_FROM on the deployment's own domain, Reply-To the mailbox
#   console  print every message (development)
#   file     write every message to EMAIL_FILE_PATH (development)
# Unset, the older variables still decide: EMAIL_BACKEND if given, else smtp
# when EMAIL_HOST is set, else console with DEBUG on.
# The environment names operators know (EMAIL_HOST...) are turned into Django
# 6.1's MAILERS setting (EMAIL_* settings are deprecated in Django 6.1).
_email_host = os.environ.get("EMAIL_HOST", "")
_mail_backend = os.environ.get("EMAIL_BACKEND", "")
MAIL_TRANSPORT = os.environ.get("MAIL_TRANSPORT", "").strip().lower()
_MAIL_TRANSPORTS = ("smtp", "graph", "anymail", "console", "file")
if not MAIL_TRANSPORT:
    if _mail_backend == "django.core.mail.backends.smtp.EmailBackend":
        MAIL_TRANSPORT = "smtp"
    elif _mail_backend:
        MAIL_TRANSPORT = "anymail" if _mail_backend.startswith("anymail.") else "custom"
    elif _email_host:
        MAIL_TRANSPORT = "smtp"
    elif DEBUG:
        MAIL_TRANSPORT = "console"
    else:
        raise ImproperlyConfigured(
            "No mail transport: with DEBUG off set MAIL_TRANSPORT (smtp, graph or anymail) "
            "with its settings, or EMAIL_HOST (e.g. send.nhs.net) and the EMAIL_* settings, "
            "or EMAIL_BACKEND."
        )
elif MAIL_TRANSPORT not in _MAIL_TRANSPORTS:
    raise ImproperlyConfigured(
        f"MAIL_TRANSPORT must be one of {', '.join(_MAIL_TRANSPORTS)}, not {MAIL_TRANSPORT!r}.")


def _mail_required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value and not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set; MAIL_TRANSPORT={MAIL_TRANSPORT} needs it (see README.md).")
    return value


_mail_options: dict = {}
# From: the mailbox itself, except through an ESP, which must send from the
# deployment's own domain (MAIL_FROM) with replies going to the mailbox.
MAIL_FROM = os.environ.get("MAIL_FROM", "")
MAIL_REPLY_TO = os.environ.get("MAIL_REPLY_TO", "")
if MAIL_TRANSPORT == "smtp":
    # NHSmail relay: port 587 with STARTTLS and the application account.
    # EMAIL_SSL_CAFILE trusts a private CA (an on-premises relay; the tests).
    _mail_backend = ("members.mail.transports.SMTPBackend" if os.environ.get("EMAIL_SSL_CAFILE")
                     else "django.core.mail.backends.smtp.EmailBackend")
    _mail_options = {
        "host": _email_host or "localhost",
        "port": env_int("EMAIL_PORT", 587),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", True),
        "timeout": env_int("EMAIL_TIMEOUT", 30),
    }
    if os.environ.get("EMAIL_SSL_CAFILE"):
        _mail_options["ssl_cafile"] = os.environ["EMAIL_SSL_CAFILE"]
elif MAIL_TRANSPORT == "graph":
    _mail_backend = "members.mail.graph.GraphEmailBackend"
    _mail_options = {
        "tenant_id": _mail_required("GRAPH_TENANT_ID"),
        "client_id": _mail_required("GRAPH_CLIENT_ID"),
        "client_secret": _mail_required("GRAPH_CLIENT_SECRET"),
        "mailbox": os.environ.get("GRAPH_MAILBOX", "") or NETWORK_MAILBOX,
        "timeout": env_int("EMAIL_TIMEOUT", 30),
    }
elif MAIL_TRANSPORT == "anymail":
    if not _mail_backend:
        _esp = _mail_required("ANYMAIL_ESP") or "test"
        _mail_backend = f"anymail.backends.{_esp}.EmailBackend"
    MAIL_FROM = MAIL_FROM or _mail_required("MAIL_FROM")
    MAIL_REPLY_TO = MAIL_REPLY_TO or f"{NETWORK_MAILBOX_NAME} <{NETWORK_MAILBOX}>"
elif MAIL_TRANSPORT == "console":
    _mail_backend = "django.core.mail.backends.console.EmailBackend"
elif MAIL_TRANSPORT == "file":
    _mail_backend = "django.core.mail.backends.filebased.EmailBackend"
    _mail_options = {"file_path": os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "sent-mail"))}
MAILERS = {"default": {"BACKEND": _mail_backend, "OPTIONS": _mail_options}}

DEFAULT_FROM_EMAIL = MAIL_FROM or f"{NETWORK_MAILBOX_NAME} <{NETWORK_MAILBOX}>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# The worker's pace: at most this many messages a rolling minute through the
# transport (Exchange Online, hence NHSmail and Graph, allows about 30 a minute
# from one mailbox); 0 = no limit. Messages over the limit wait, never dropped.
MAIL_RATE_PER_MINUTE = env_int(
    "MAIL_RATE_PER_MINUTE", 30 if MAIL_TRANSPORT in ("smtp", "graph") else 0)
if MAIL_RATE_PER_MINUTE < 0:
    raise ImproperlyConfigured(
        f"MAIL_RATE_PER_MINUTE must be 0 (no limit) or more, not {MAIL_RATE_PER_MINUTE}.")
# Delays, in minutes, before each retry of a transient failure (a server
# down, SMTP 4xx, an ESP's 5xx or 429); after the last, the message is failed.
_retry = env_list("MAIL_RETRY_MINUTES", ["1", "5", "15", "60", "240"])
if not all(item.isascii() and item.isdigit() for item in _retry):
    raise ImproperlyConfigured(
        "MAIL_RETRY_MINUTES must be a comma-separated list of whole numbers of minutes, "
        f"0 or more (e.g. 1,5,15,60,240), not {os.environ.get('MAIL_RETRY_MINUTES')!r}.")
MAIL_RETRY_MINUTES = [int(m) for m in _retry]
# A message left "sending" this long (its worker died mid-send) is sent again,
# with the same Message-ID, by `manage.py send_outbox`. At least 2: a send can
# take EMAIL_TIMEOUT (30 s) for the connection and again for the message, and
# a shorter wait would send again a message a live worker is still sending.
MAIL_SENDING_STALE_MINUTES = env_int("MAIL_SENDING_STALE_MINUTES", 10)
if MAIL_SENDING_STALE_MINUTES < 2:
    raise ImproperlyConfigured(
        f"MAIL_SENDING_STALE_MINUTES must be 2 or more, not {MAIL_SENDING_STALE_MINUTES}: "
        "a shorter wait would send again messages a live worker is still sending.")
# How many messages one run of `manage.py send_outbox` sends over one connection.
MAIL_BATCH_SIZE = env_int("MAIL_BATCH_SIZE", 200)
if MAIL_BATCH_SIZE < 1:
    raise ImproperlyConfigured(f"MAIL_BATCH_SIZE must be 1 or more, not {MAIL_BATCH_SIZE}.")

# Which addresses may sign up: NHSmail and trust domains by default.
ALLOWED_EMAIL_DOMAINS = env_list("ALLOWED_EMAIL_DOMAINS", ["nhs.net"])
ALLOWED_EMAIL_DOMAIN_SUFFIXES = env_list("ALLOWED_EMAIL_DOMAIN_SUFFIXES", [".nhs.uk"])

# --- Background tasks (Django's tasks framework) -----------------------------
# "database": django-tasks-db, run `manage.py db_worker`. "immediate": run in
# the request (development default, so a newcomer sees mail at once).
TASK_BACKEND = os.environ.get("TASK_BACKEND", "immediate" if DEBUG else "database")
_task_backends = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "dummy": "django.tasks.backends.dummy.DummyBackend",
}
if TASK_BACKEND not in _task_backends:
    raise ImproperlyConfigured(
        f"TASK_BACKEND must be one of {', '.join(_task_backends)}, not {TASK_BACKEND!r}."
    )
TASKS = {"default": {"BACKEND": _task_backends[TASK_BACKEND]}}

# --- Sign-in (django-allauth) ------------------------------------------------
ACCOUNT_ADAPTER = "members.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
# Password optional: sign-in is by emailed code; a person may also set a password.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1"]
ACCOUNT_SIGNUP_FORM_CLASS = "members.forms.SignupForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
# Codes wait in the mail queue: give them longer than allauth's 3 minutes.
# They go first (highest priority), so a code waits at most for the rate
# limit's next slot (under a minute) and its own retries, which
# members.mail.outbox spreads over the code's lifetime; a code that expired
# unsent is marked failed, never delivered dead. 5 minutes is the least that
# outlasts a minute's rate-limit wait plus a retry or two.
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = env_int("LOGIN_CODE_TIMEOUT_SECONDS", 15 * 60)
if ACCOUNT_LOGIN_BY_CODE_TIMEOUT < 300:
    raise ImproperlyConfigured(
        "LOGIN_CODE_TIMEOUT_SECONDS must be at least 300: sign-in codes wait in the mail "
        f"queue (rate limit, retries), not {ACCOUNT_LOGIN_BY_CODE_TIMEOUT}.")
ACCOUNT_EMAIL_VERIFICATION_BY_CODE_TIMEOUT = env_int("LOGIN_CODE_TIMEOUT_SECONDS", 15 * 60)
# No mail to addresses with no account: bots use such mail to spam people.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[SIG Hub] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
ACCOUNT_LOGOUT_ON_GET = False

# --- Security ----------------------------------------------------------------
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own config gives "django" a console handler too: let it
    # propagate to root instead, so each line is printed once.
    "loggers": {"django": {"handlers": [], "propagate": True}},
}

# --- Inbound mail -------------------------------------------------------------
# Attendees' calendar replies (METHOD:REPLY) are read by `manage.py ingest_mail`
# from messages exported from the network mailbox, or arrive through Postmark's
# inbound webhook at /anymail/postmark/inbound/ (turn on "Include raw email
# content in JSON payload") for a deployment whose ORGANIZER address is routed
# to Postmark. Anymail checks the webhook's HTTP basic auth ("user:password").
# Unset, the secret is a random one nobody knows, so the webhooks refuse every
# request rather than accept forged replies from anyone on the web.
ANYMAIL = {
    "WEBHOOK_SECRET": os.environ.get("ANYMAIL_WEBHOOK_SECRET", "")
    or f"disabled:{secrets.token_urlsafe(32)}",
}
# MAIL_TRANSPORT=anymail: every other ANYMAIL_<NAME> variable becomes
# ANYMAIL["<NAME>"] (e.g. ANYMAIL_POSTMARK_SERVER_TOKEN).
ANYMAIL.update({
    name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items()
    if name.startswith("ANYMAIL_") and name not in ("ANYMAIL_ESP", "ANYMAIL_WEBHOOK_SECRET")
})

# --- Meeting reminders ---------------------------------------------------------
# `manage.py send_reminders` (hourly from cron) emails everyone attending or not
# yet answered once a meeting is this many days away; 0 turns reminders off.
MEETING_REMINDER_DAYS = env_int("MEETING_REMINDER_DAYS", 7)
if MEETING_REMINDER_DAYS < 0:
    raise ImproperlyConfigured(
        f"MEETING_REMINDER_DAYS must be 0 or more, not {MEETING_REMINDER_DAYS}.")

# --- Agenda papers -------------------------------------------------------------
# The largest paper a chair may upload, in megabytes (NHSmail itself refuses
# attachments over 35 MB; papers are linked, never attached, but a pack of big
# files is still unkind to members on trust networks).
PAPER_MAX_MB = env_int("PAPER_MAX_MB", 20)
if PAPER_MAX_MB < 1:
    raise ImproperlyConfigured(f"PAPER_MAX_MB must be 1 or more, not {PAPER_MAX_MB}.")
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Task-and-finish groups ------------------------------------------------------
# A volunteer offered a freed place has this many days to confirm it before the
# offer passes to the next person waiting (`manage.py expire_offers`, hourly).
VOLUNTEER_OFFER_DAYS = env_int("VOLUNTEER_OFFER_DAYS", 5)
if VOLUNTEER_OFFER_DAYS < 1:
    raise ImproperlyConfigured(
        f"VOLUNTEER_OFFER_DAYS must be 1 or more, not {VOLUNTEER_OFFER_DAYS}.")

# --- Cache ---------------------------------------------------------------------
# "feeds" holds rendered calendar feeds under their ETag (events/feeds.py);
# "pages" whole pages, feed heads and signed-in people under the content
# version (members/pagecache.py), and sessions read (members/sessions.py) under
# the sessions version. What an entry was made from is in its key, so none is
# ever stale, and each process keeps its own in memory: fastest, even with many
# processes. "default" holds allauth's rate limits: with more than one web
# process, set CACHE_URL=redis://host:6379/0 so that they share them.
# Tests cache no feeds or pages unless a test turns it on, so an entry cached by
# one test is never met by another that reuses its ids and frozen clock.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "feeds": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
              "LOCATION": "feeds", "OPTIONS": {"MAX_ENTRIES": 2000}},
    "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
              "LOCATION": "pages", "OPTIONS": {"MAX_ENTRIES": 2000}},
}
# PAGE_CACHE=0 turns the pages cache off (on by default, except with DEBUG=1, where an
# edited template would otherwise show its old output for up to a minute).
if not env_bool("PAGE_CACHE", not DEBUG):
    CACHES["pages"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
if CACHE_URL.startswith(("redis://", "rediss://")):
    # django-redis keeps one client per server; Django's own backend builds one per
    # call, which costs more than the round trip (0.22 ms against 0.13 ms here).
    CACHES["default"] = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": CACHE_URL}
elif CACHE_URL:
    raise ImproperlyConfigured(f"CACHE_URL must be a redis:// URL or empty, not {CACHE_URL!r}.")
if TESTING:
    CACHES["feeds"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    CACHES["pages"] = {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
