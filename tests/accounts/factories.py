from datetime import timedelta

import factory
from django.utils import timezone

from accounts.identity import KEY_VERSION, username_key
from accounts.models import Invite, User
from accounts.services import hash_token


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"Person {n}")
    username_key = factory.LazyAttribute(lambda user: username_key(user.username))
    username_key_version = KEY_VERSION
    external_id = factory.Sequence(lambda n: f"user_test{n}")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or "correct horse battery staple")
        if create:
            user.save(update_fields=["password"])


class InviteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invite

    class Params:
        token = factory.Sequence(lambda n: f"test-token-{n}")

    created_by = factory.SubFactory(UserFactory)
    token_hash = factory.LazyAttribute(lambda invite: hash_token(invite.token))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    max_uses = 1
