"""Course images imported from courses/ live in the bucket too, and reach students by presigned URL."""
from __future__ import annotations

from lms.auth.models import Role
from tests.catalog.test_views import PNG, import_course_with_asset
from tests.production.conftest import assert_presigned, fetch


def test_course_assets_on_s3_redirect_the_course_people_to_the_bucket(app, client, auth, make, tmp_path):
    course = import_course_with_asset(app, tmp_path)
    student, outsider = make.user(Role.STUDENT), make.user(Role.STUDENT)
    make.offering(course, students=[student])
    url = f"/courses/{course.id}/assets/ramp.png"
    auth.login(student)
    answer = client.get(url)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert_presigned(location, app.config["S3_ENDPOINT_URL"], app.config["S3_BUCKET"])
    status, headers, body = fetch(location)
    assert status == 200 and body == PNG and headers["Content-Type"] == "image/png"
    auth.logout()
    auth.login(outsider)
    assert client.get(url).status_code in (403, 404)
