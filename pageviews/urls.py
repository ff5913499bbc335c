from django.urls import path

from pageviews import views

app_name = "pageviews"
urlpatterns = [path("", views.stats, name="stats")]
