from modeltranslation.translator import TranslationOptions, register

from .models import Certification, CommunityFund, Cooperative


@register(Certification)
class CertificationTranslation(TranslationOptions):
    fields = ("name",)


@register(Cooperative)
class CooperativeTranslation(TranslationOptions):
    fields = ("name", "summary", "story")
    required_languages = ("en",)


@register(CommunityFund)
class CommunityFundTranslation(TranslationOptions):
    fields = ("name", "summary", "description")
    required_languages = ("en",)
