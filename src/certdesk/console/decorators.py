from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse


def operator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Operators only: anonymous visitors go to the sign-in page, everybody else gets a 404
    (the console's existence is not advertised to customers)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not (user.is_staff and user.is_active):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
