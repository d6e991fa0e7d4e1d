"""The public face of JDU's credentials: the DID document and JWKS verifiers fetch, the status
list, the /verify page anyone can use without an account; and the registrar's list with
downloads and revocation."""
from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.auth.models import User
from lms.credentials import permissions, services
from lms.credentials.did import did_document
from lms.credentials.forms import MAX_CREDENTIAL_BYTES, RevokeForm, VerifyForm
from lms.credentials.models import IssuedCredential
from lms.credentials.verify import Verdict
from lms.errors import attempt, render_error
from lms.extensions import db
from lms.loading import load_or_404

bp = Blueprint("credentials", __name__)
PUBLIC_MAX_AGE = 300  # a rotated key reaches verifiers within minutes; old keys never leave


def _public_json(data: dict, mimetype: str, cache: str) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False, indent=2), mimetype=mimetype)
    response.headers["Cache-Control"] = cache
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers in any browser may fetch it
    return response


@bp.route("/.well-known/did.json")
def did_json():
    document = did_document(services.issuer_did(), services.key_ring())
    return _public_json(document, "application/did+json", f"public, max-age={PUBLIC_MAX_AGE}")


@bp.route("/.well-known/jwks.json")
def jwks_json():
    did = services.issuer_did()
    keys = []
    for key in services.key_ring().keys:
        jwk = dict(key.public_jwk())
        jwk.setdefault("kid", key.key_id)
        jwk.setdefault("use", "sig")
        jwk.setdefault("alg", "EdDSA")
        keys.append(jwk)
    response = _public_json({"keys": keys}, "application/json", f"public, max-age={PUBLIC_MAX_AGE}")
    response.headers["Link"] = f'<{url_for("credentials.did_json", _external=False)}>; rel="describedby"; did="{did}"'
    return response


@bp.route(services.STATUS_LIST_PATH)
def status_list():
    # Short-lived on purpose: a revocation must reach verifiers (and their caches) within a minute.
    return _public_json(services.status_list_credential(), "application/vc+ld+json", "public, max-age=60")


def _check_sentences() -> dict[tuple[str, bool | None], str]:
    return {
        ("format", True): _("It has the form of a verifiable credential."),
        ("format", False): _("It is not a verifiable credential JDU could read."),
        ("format", None): _("Its form could not be checked."),
        ("signature", True): _("The signature matches: nothing was changed after signing."),
        ("signature", False): _("The signature does not match: the credential was changed after it was signed, "
                                "or the signature is broken."),
        ("signature", None): _("The signature could not be checked."),
        ("issuer", True): _("It was signed by Japan Digital University's published key."),
        ("issuer", False): _("It was not signed by a key Japan Digital University publishes."),
        ("issuer", None): _("The issuer could not be checked."),
        ("status", True): _("It has not been revoked."),
        ("status", False): _("Japan Digital University has revoked it."),
        ("status", None): _("Whether it was revoked could not be checked."),
        ("validity", True): _("It is within its validity dates."),
        ("validity", False): _("It is outside its validity dates (not yet valid, or expired)."),
        ("validity", None): _("Its validity dates could not be checked."),
        ("embedded", True): _("Every course credential inside it checks out too."),
        ("embedded", False): _("At least one course credential inside it does not check out."),
        ("embedded", None): _("Not every course credential inside it carries its own signature to check."),
    }


def _check_names() -> dict[str, str]:
    return {"format": _("Format"), "signature": _("Signature"), "issuer": _("Issuer"),
            "status": _("Revocation status"), "validity": _("Validity dates"),
            "embedded": _("Embedded credentials")}


def _text(value) -> str:
    """A credential's field as plain text, whatever JSON type a forger put there."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("id") or "")
    if isinstance(value, list):
        return ", ".join(filter(None, (_text(v) for v in value)))
    return "" if value is None else str(value)


def _identifiers(subject) -> str:
    if not isinstance(subject, dict):
        return ""
    found = []
    for item in subject.get("identifier") or []:
        if isinstance(item, dict) and item.get("identityHash"):
            found.append(f"{_text(item.get('identityType'))}: {_text(item['identityHash'])}")
    if subject.get("id"):
        found.append(_text(subject["id"]))
    return ", ".join(found)


def _when(value) -> str:
    try:
        return format_datetime(datetime.fromisoformat(str(value).replace("Z", "+00:00")), "medium")
    except (TypeError, ValueError):
        return _text(value)


def summary(credential: dict) -> list[tuple[str, str]]:
    """What the credential says, for the verdict page (only shown once its signature checked out)."""
    types = [t for t in credential.get("type") or [] if isinstance(t, str) and t != "VerifiableCredential"]
    rows = [(_("Type"), ", ".join(types)), (_("Name"), _text(credential.get("name"))),
            (_("Subject"), _identifiers(credential.get("credentialSubject"))),
            (_("Issuer"), _text(credential.get("issuer"))),
            (_("Issued"), _when(credential.get("validFrom") or credential.get("issuanceDate")))]
    if credential.get("validUntil"):
        rows.append((_("Valid until"), _when(credential["validUntil"])))
    return [(label, value) for label, value in rows if value]


def _render_verdict(form: VerifyForm, verdict: Verdict | None, *, error: str | None = None, status: int = 200,
                    stored: IssuedCredential | None = None):
    sentences, names = _check_sentences(), _check_names()
    checks = [{"name": names.get(c.name, c.name), "ok": c.ok,
               "sentence": sentences.get((c.name, c.ok), ""), "detail": c.detail}
              for c in (verdict.checks if verdict else [])]
    shown = verdict is not None and verdict.status in ("valid", "revoked") and isinstance(verdict.credential, dict)
    return render_template("credentials/verify.html", form=form, verdict=verdict, checks=checks, error=error,
                           facts=summary(verdict.credential) if shown else [], stored=stored,
                           max_mb=MAX_CREDENTIAL_BYTES // (1024 * 1024)), status


def _submitted(form: VerifyForm) -> tuple[bytes | None, str | None, int]:
    """The pasted text or the uploaded file; or a message and status when there is none or it is too big."""
    upload = request.files.get(form.file.name)
    if upload is not None and upload.filename:
        try:
            data = upload.stream.read(MAX_CREDENTIAL_BYTES + 1)
        finally:
            upload.close()  # a large one was spooled to a temporary file
    else:
        data = (form.credential.data or "").strip().encode("utf-8")
    if len(data) > MAX_CREDENTIAL_BYTES:
        return None, _("That is larger than %(size)s MB; a credential is much smaller. Check that you chose "
                       "the right file.", size=MAX_CREDENTIAL_BYTES // (1024 * 1024)), 413
    if not data.strip():
        return None, _("Paste a credential or choose its file."), 400
    return data, None, 200


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    if request.method == "GET" and request.args.get("id"):
        return verify_issued(request.args["id"])
    form = VerifyForm()
    if request.method == "GET":
        return _render_verdict(form, None)
    if not form.validate_on_submit():  # only the CSRF token can fail here
        return _render_verdict(form, None, error=_("Your form expired. Reload the page and try again."), status=400)
    data, error, status = _submitted(form)
    if error:
        return _render_verdict(form, None, error=error, status=status)
    verdict = services.verify(data)
    if verdict.status != "malformed":
        form.credential.data = ""  # "check another" starts empty; a paste that did not parse stays to fix
    return _render_verdict(form, verdict, status=400 if verdict.status == "malformed" else 200)


@bp.route("/verify/<path:credential_id>")
def verify_issued(credential_id: str):
    """The link (and QR code) printed on a transcript."""
    row = db.session.get(IssuedCredential, credential_id)
    if row is None or (row.document is None and row.token is None):
        return render_error(404, _("Japan Digital University issued no credential with this identifier. "
                                   "Check the link, or paste the credential itself below."))
    return _render_verdict(VerifyForm(), services.verify(services.stored_form(row)), stored=row)


@bp.route("/credentials/students/<int:student_id>")
@login_required
def student_credentials(student_id: int):
    student = load_or_404(User, student_id, permissions.can_list_credentials)
    rows = db.session.scalars(permissions.visible_credentials(current_user)
                              .where(IssuedCredential.student_id == student.id)
                              .order_by(IssuedCredential.issued_at.desc(), IssuedCredential.id)).all()
    return render_template("credentials/student.html", student=student, rows=rows, revoke_form=RevokeForm(),
                           can_revoke=permissions.can_revoke(current_user), name_of=_credential_name)


def _credential_name(row: IssuedCredential) -> str:
    document = row.document
    if document is None and row.token is not None:
        from lms.credentials.verify import parse

        document = parse(row.token)[0]
    return _text((document or {}).get("name"))


@bp.route("/credentials/<path:credential_id>.<any(json, jwt):fmt>")
@login_required
def download(credential_id: str, fmt: str):
    row = load_or_404(IssuedCredential, credential_id, permissions.can_download)
    if fmt == "json" and row.document is not None:
        body, mimetype = json.dumps(row.document, ensure_ascii=False, indent=2), "application/vc+ld+json"
    elif fmt == "jwt" and row.token is not None:
        body, mimetype = row.token, "application/vc+jwt"
    else:
        abort(404)
    name = row.id.rsplit(":", 1)[-1]
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="jdu-credential-{name}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/credentials/<path:credential_id>/revoke", methods=["POST"])
@login_required
def revoke(credential_id: str):
    row = load_or_404(IssuedCredential, credential_id, permissions.can_revoke)
    form = RevokeForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for revoking the credential."), "error")
    elif attempt(lambda: services.revoke(row, form.reason.data, current_user.id)) is not None:
        flash(_("The credential was revoked. Anyone verifying it now sees that it was revoked."), "success")
    return redirect(url_for("credentials.student_credentials", student_id=row.student_id))


def register(app) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["can_download_credential"] = lambda row: permissions.can_download(current_user, row)
