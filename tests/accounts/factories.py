from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from accounts.models import Organisation, User

PASSWORD = "Tosi-hyva-salasana-42"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Testikunta {n}")
    kind = Organisation.Kind.MUNICIPALITY


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.fi")
    name = factory.Faker("name", locale="fi_FI")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class FacilitatorFactory(UserFactory):
    is_staff = True


class ContactPersonFactory(UserFactory):
    organisation = factory.SubFactory(OrganisationFactory)
