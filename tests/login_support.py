"""Logging in to the admin as a browser does (its form, its CSRF token, an address), for the
tests of django-axes' lockouts; the ``axes_on`` fixture is in conftest.py."""

from django.urls import reverse


def admin_login(client, username, password="wrong", ip="203.0.113.7"):
    client.get(reverse("admin:login"))
    return client.post(
        reverse("admin:login"),
        {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
            "next": "/admin/",
        },
        REMOTE_ADDR=ip,
    )
