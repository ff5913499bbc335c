from django.urls import path

from chat import views

app_name = "chat"
urlpatterns = [
    path("", views.index, name="index"),
    path("rooms/new/", views.room_create, name="room_create"),
    path("rooms/<slug:slug>/", views.room, name="room"),
    path("rooms/<slug:slug>/older/", views.older, name="older"),
    path("rooms/<slug:slug>/newer/", views.newer, name="newer"),
    path("search/", views.search, name="search"),
]
