"""``/.well-known/security.txt`` (RFC 9116): where to report a vulnerability."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET


@require_GET
def security_txt(request):
    """The deployer's security contact; the file stays valid for a year from whenever it is read."""
    expires = (timezone.now() + timedelta(days=365)).replace(microsecond=0)
    lines = [
        f"Contact: mailto:{settings.KEHITTAMO_SECURITY_CONTACT}",
        f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}",  # timezone.now() is UTC
        "Preferred-Languages: fi, sv, en",
        f"Canonical: {settings.KEHITTAMO_SITE_URL}/.well-known/security.txt",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
