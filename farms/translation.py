from modeltranslation.translator import TranslationOptions, register

from .models import Farm, FarmPhoto


@register(Farm)
class FarmTranslation(TranslationOptions):
    fields = ("name", "summary", "story")
    required_languages = ("en",)


@register(FarmPhoto)
class FarmPhotoTranslation(TranslationOptions):
    fields = ("alt_text", "caption")
    required_languages = ("en",)
