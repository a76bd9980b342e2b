"""The account pages under /konto/.

Logging in and out and the password pages keep Django's URL names
(``login``, ``logout``, ``password_reset``, ``password_reset_confirm``…),
since settings and templates refer to them; the rest live under ``accounts:``.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from inuk.accounts.scoping import require_role
from inuk.accounts.views import login, passwords, profile, tokens, users

manage_patterns = [
    path("", profile.profile, name="profile"),
    path("tvastegsverifiering/", profile.second_factor_enrol, name="second_factor_enrol"),
    path(
        "tvastegsverifiering/stang-av/", profile.second_factor_remove, name="second_factor_remove"
    ),
    path("anvandare/", users.user_list, name="users"),
    path("anvandare/ny/", users.user_add, name="user_add"),
    path("anvandare/<int:pk>/", users.user_edit, name="user_edit"),
    path("anvandare/<int:pk>/skicka-lank/", users.user_send_link, name="user_send_link"),
    path("anvandare/<int:pk>/ta-bort/", users.user_remove, name="user_remove"),
    path("api-nycklar/", tokens.token_list, name="tokens"),
    path("api-nycklar/ny/", tokens.token_add, name="token_add"),
    path("api-nycklar/<int:pk>/aterkalla/", tokens.token_revoke, name="token_revoke"),
]

urlpatterns = [
    path("logga-in/", login.LoginView.as_view(), name="login"),
    path("logga-in/kod/", login.login_code, name="login_code"),
    path("logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "losenord/byt/",
        require_role()(passwords.PasswordChangeView.as_view()),
        name="password_change",
    ),
    path(
        "losenord/bytt/",
        require_role()(passwords.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("losenord/glomt/", passwords.PasswordResetView.as_view(), name="password_reset"),
    path(
        "losenord/skickat/", passwords.PasswordResetDoneView.as_view(), name="password_reset_done"
    ),
    path(
        "losenord/nytt/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "losenord/klart/",
        passwords.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("", include((manage_patterns, "accounts"))),
]
