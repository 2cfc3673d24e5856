"""The WSGI application that `tierline serve` (gunicorn) runs, and any other WSGI server
(uwsgi, mod_wsgi): each process starts the assistant's thread at its first request
(assist.background.on_first_request; under `tierline serve` it runs already)."""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tierline.settings")
application = get_wsgi_application()

from tierline.assist import background  # noqa: E402 (needs the settings set up above)

application = background.on_first_request(application)

# Import every URLconf and view now, in one thread. Left to the first requests, gunicorn's
# threads race to import them and Python's import locks can deadlock (seen: a 500 on sign-in).
get_resolver().url_patterns  # noqa: B018 - the access imports them
