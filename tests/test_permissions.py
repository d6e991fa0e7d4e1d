"""Routes × roles: who gets the page (200), who is sent to log in (302) and who is refused (403)."""
import pytest

from lms.auth.models import Role

ROLES = ["anonymous", "student", "other_student", "instructor", "assistant", "other_instructor",
         "registrar", "admin"]
# route -> set of roles that get 200; anonymous always gets 302 to login; everyone else 403.
READ = {
    "/offerings/{offering}": {"student", "instructor", "assistant", "registrar", "admin"},
    "/offerings/{offering}/lessons/{lesson}": {"student", "instructor", "assistant", "registrar", "admin"},
    "/offerings/{offering}/announcements": {"student", "instructor", "assistant", "registrar", "admin"},
    "/notifications": {"student", "other_student", "instructor", "assistant", "other_instructor", "registrar", "admin"},
    "/authoring/courses": {"instructor", "assistant", "other_instructor", "admin"},
    "/authoring/courses/{course}": {"instructor", "admin"},
    "/authoring/lessons/{lesson}": {"instructor", "admin"},
    "/authoring/modules/{module}": {"instructor", "admin"},
    "/registrar/students": {"registrar", "admin"},
    "/registrar/students/import": {"registrar", "admin"},
    "/registrar/offerings": {"registrar", "admin"},
    "/registrar/offerings/{offering}": {"registrar", "admin"},
    "/admin/users": {"admin"},
    "/admin/users/{student_id}": {"admin"},
    "/admin/partners": {"admin"},
    "/admin/programs": {"registrar", "admin"},
    "/admin/terms/new": {"registrar", "admin"},
}
WRITE = {
    "/offerings/{offering}/lessons/{lesson}/complete": {"student"},
    "/authoring/courses/{course}/modules": {"instructor", "admin"},
    "/registrar/offerings/{offering}/enroll": {"registrar", "admin"},
    "/admin/users/{student_id}/reset-password": {"admin"},
}


@pytest.fixture
def world(make):
    people = {role: make.user(r) for role, r in [
        ("student", Role.STUDENT), ("other_student", Role.STUDENT), ("instructor", Role.INSTRUCTOR),
        ("assistant", Role.INSTRUCTOR), ("other_instructor", Role.INSTRUCTOR),
        ("registrar", Role.REGISTRAR), ("admin", Role.ADMIN)]}
    course = make.course()
    offering = make.offering(course, instructor=people["instructor"], assistant=people["assistant"],
                             students=[people["student"]])
    make.offering(instructor=people["other_instructor"], students=[people["other_student"]])
    ids = {"offering": offering.id, "course": course.id, "lesson": course.modules[0].lessons[0].id,
           "module": course.modules[0].id, "student_id": people["student"].id}
    return people, ids


def _client_as(app, people, role):
    client = app.test_client()
    if role != "anonymous":
        client.post("/login", data={"login": people[role].email, "password": "correct-horse-battery"})
    return client


@pytest.mark.parametrize("role", ROLES)
def test_read_matrix(app, world, role):
    people, ids = world
    client = _client_as(app, people, role)
    for route, allowed in READ.items():
        response = client.get(route.format(**ids))
        expected = 302 if role == "anonymous" else 200 if role in allowed else 403
        assert response.status_code == expected, f"{role} GET {route}"
        if expected == 302:
            assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("role", ROLES)
def test_write_matrix(app, world, role):
    people, ids = world
    client = _client_as(app, people, role)
    for route, allowed in WRITE.items():
        response = client.post(route.format(**ids), data={"title_en": "M", "enroll-student": "nobody"})
        if role == "anonymous":
            assert response.status_code == 302 and response.headers["Location"].startswith("/login")
        elif role in allowed:
            assert response.status_code in (200, 302), f"{role} POST {route}"
        else:
            assert response.status_code == 403, f"{role} POST {route}"


def test_missing_objects_are_404(app, world):
    people, ids = world
    client = _client_as(app, people, "admin")
    for route in ["/offerings/999999", "/authoring/courses/999999", "/admin/users/999999",
                  "/admin/nonsense", f"/offerings/{ids['offering']}/lessons/999999"]:
        assert client.get(route).status_code == 404, route
