from django.urls import path

from demo import views

app_name = "demo"
urlpatterns = [path("guest/", views.guest_sign_in, name="guest")]
