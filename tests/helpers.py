"""Test helpers: read the values a browser would submit from a rendered HTML form."""

from html.parser import HTMLParser


class _FormParser(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.in_form = form_id is None
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_has_selected = False
        self._select_first: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.form_id is not None:
            self.in_form = attrs.get("id") == self.form_id
            return
        if not self.in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in {"submit", "button", "image", "file", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attrs:
                return
            self._add(name, attrs.get("value", "on" if kind in {"checkbox", "radio"} else ""))
        elif tag == "select" and name:
            self._select, self._select_has_selected, self._select_first = name, False, None
            self._multiple = "multiple" in attrs
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                self._select_has_selected = True
                self._add(self._select, value)
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "form" and self.form_id is not None:
            self.in_form = False
        elif tag == "select" and self._select:
            if not self._select_has_selected and not self._multiple and self._select_first is not None:
                self._add(self._select, self._select_first)
            self._select = None
        elif tag == "textarea" and self._textarea:
            text = "".join(self._text)
            self._add(self._textarea, text[1:] if text.startswith("\n") else text)
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_values(html: str, form_id: str | None = None) -> dict:
    """Name → value (or list of values) that submitting the form unchanged would send.

    Template forms of inline formsets (names containing ``__prefix__``) are left out.
    """
    parser = _FormParser(form_id)
    parser.feed(html)
    return {
        name: values if len(values) > 1 else values[0]
        for name, values in parser.data.items()
        if "__prefix__" not in name
    }


def staff_with_permissions(*permissions: str, email: str = "ops@kallpa.example"):
    """A staff user who is not a superuser and has exactly ``permissions`` ("app_label.codename")."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    from tests.factories import UserFactory

    user = UserFactory(email=email, is_staff=True)
    wanted = Q(pk__in=[])
    for permission in permissions:
        app_label, codename = permission.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(wanted))
    assert len(found) == len(permissions), f"unknown permission among {permissions}"
    user.user_permissions.add(*found)
    return user


def audit_trail(obj) -> list[tuple[int, str, str]]:
    """(action flag, change message, user e-mail) of the admin LogEntry rows of ``obj``, oldest first."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    return list(
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))
        .order_by("pk")
        .values_list("action_flag", "change_message", "user__email")
    )


def admin_messages(response) -> list[str]:
    """The messages (django.contrib.messages) of the request that produced ``response``, as text."""
    from django.contrib.messages import get_messages

    return [str(message) for message in get_messages(response.wsgi_request)]


def post_action(client, changelist_url: str, action: str, objects, **fields):
    """POST an admin action the way the changelist's action bar does."""
    data = {"action": action, "index": "0", "_selected_action": [obj.pk for obj in objects], **fields}
    return client.post(changelist_url, data)
