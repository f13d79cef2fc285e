"""What keeps the workbench safe on a clinic's network: a token unless it listens on this machine
only, a CSRF token on every form and every script request, a strict Content-Security-Policy, and
request paths never used unchecked (a handout is named by `NAME`, a-z, 0-9 and -, that must exist)."""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from flask import Flask, Response, abort, redirect, request, session, url_for

from .store import NAME

POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
          "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
OPEN_ENDPOINTS = {"login", "sign_in", "static"}


def local_only(host: str) -> bool:
    """Whether the server listens on this machine only (no one else can reach it)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def handout_name(name: str) -> str:
    """A handout's name from a request, refused (404) unless it is one a source could have."""
    if not NAME.fullmatch(name or ""):  # the store's own rule for a handout's name
        abort(404)
    return name


def csrf_token() -> str:
    """This session's form token (made on first use)."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def install(app: Flask, token: str) -> None:
    """Every request checked: signed in (when a token is required), its form token on a POST; every
    response with the security headers."""

    @app.before_request
    def signed_in_and_same_site() -> Response | None:
        """A request from someone who has not given the token goes to the sign-in page; a POST without
        this session's form token is refused."""
        if token and not session.get("signed_in") and request.endpoint not in OPEN_ENDPOINTS:
            if request.method == "GET" and request.accept_mimetypes.accept_html:
                return redirect(url_for("login", next=request.path))
            abort(401)
        if request.method == "POST":
            sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token", "")
            if not sent or not hmac.compare_digest(sent, csrf_token()):
                abort(400, "this form is out of date: reload the page and try again")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        """No script but the workbench's own, no framing, no sniffing, no referrer."""
        response.headers.setdefault("Content-Security-Policy", POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response


def token_matches(given: str, token: str) -> bool:
    """Whether the sign-in token is right (compared in constant time)."""
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())

