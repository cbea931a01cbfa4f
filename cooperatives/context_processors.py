from . import portal_selectors


def portal(request):
    """``portal_url``: the signed-in person's way into the community portal, or None.

    A callable, so the membership query (one, cached on the user) runs only on pages whose
    header asks for it, i.e. for signed-in people; cached anonymous pages never do.
    """
    user = getattr(request, "user", None)
    return {"portal_url": lambda: portal_selectors.portal_home_url(user) if user is not None else None}
