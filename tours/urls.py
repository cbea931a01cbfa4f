from django.urls import path

from . import views

app_name = "tours"

urlpatterns = [
    path("", views.home, name="home"),
    path("routes/<slug:slug>/", views.route_detail, name="route_detail"),
    path("tours/<slug:slug>/", views.tour_detail, name="tour_detail"),
    path("farms/<slug:slug>/", views.farm_detail, name="farm_detail"),
    path("cooperatives/<slug:slug>/", views.cooperative_detail, name="cooperative_detail"),
]
