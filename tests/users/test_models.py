import pytest

from cacaotours.users.models import User

pytestmark = pytest.mark.django_db


def test_create_user_uses_lowercased_email_as_login():
    user = User.objects.create_user("Rosa.Quispe@Example.COM", password="cacao-pass-123")
    assert user.email == "rosa.quispe@example.com"
    assert user.check_password("cacao-pass-123")
    assert (user.is_staff, user.is_superuser) == (False, False)
    assert not hasattr(user, "username") or user.username is None


def test_create_superuser_is_staff():
    user = User.objects.create_superuser("domingo@kallpa.example", password="x-long-password")
    assert (user.is_staff, user.is_superuser) == (True, True)


def test_email_is_required():
    with pytest.raises(ValueError, match=r"^An e-mail address is required\.$"):
        User.objects.create_user("", password="cacao-pass-123")
    assert User.objects.count() == 0


def test_str():
    assert (
        str(User(email="rosa@example.com", first_name="Rosa", last_name="Quispe")) == "Rosa Quispe <rosa@example.com>"
    )
    assert str(User(email="guest@example.com")) == "guest@example.com"


def test_login_with_email(client):
    User.objects.create_user("rosa@example.com", password="cacao-pass-123")
    assert client.login(email="rosa@example.com", password="cacao-pass-123")
    assert not client.login(email="rosa@example.com", password="wrong")
