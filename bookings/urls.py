from django.urls import path

from . import views

app_name = "bookings"

urlpatterns = [
    path("book/<int:departure_id>/", views.departure_book, name="book"),
    path("bookings/", views.booking_list, name="list"),
    path("bookings/<str:reference>/", views.booking_detail, name="detail"),
    path("bookings/<str:reference>/details/", views.booking_details, name="details"),
    path("bookings/<str:reference>/success/", views.booking_success, name="success"),
    path("bookings/<str:reference>/status/", views.booking_status, name="status"),
    path("bookings/<str:reference>/calendar.ics", views.booking_ics, name="ics"),
    path("bookings/<str:reference>/cancel/", views.booking_cancel, name="cancel"),
    path("checkout/simulated/<str:session_id>/", views.simulated_checkout, name="simulated_checkout"),
    path("accounts/delete/", views.account_delete, name="account_delete"),
]
