from .models import User

PROFILE_FIELDS = ("first_name", "last_name", "country", "phone", "preferred_language")


def user_profile_update(*, user: User, **fields) -> User:
    for name in PROFILE_FIELDS:
        if name in fields:
            setattr(user, name, fields[name])
    user.save(update_fields=[name for name in PROFILE_FIELDS if name in fields])
    return user
