from modeltranslation.translator import TranslationOptions, register

from .models import ItineraryStop, Route, RoutePhoto, ShareRule, Tour, TourPhoto


@register(Route)
class RouteTranslation(TranslationOptions):
    fields = ("name", "summary", "description")
    required_languages = ("en",)


@register(Tour)
class TourTranslation(TranslationOptions):
    fields = ("title", "summary", "description", "meeting_point", "includes", "excludes", "what_to_bring")
    required_languages = ("en",)


@register(ItineraryStop)
class ItineraryStopTranslation(TranslationOptions):
    fields = ("title", "description")
    required_languages = ("en",)


@register(ShareRule)
class ShareRuleTranslation(TranslationOptions):
    fields = ("purpose",)


@register(RoutePhoto)
class RoutePhotoTranslation(TranslationOptions):
    fields = ("alt_text", "caption")
    required_languages = ("en",)


@register(TourPhoto)
class TourPhotoTranslation(TranslationOptions):
    fields = ("alt_text", "caption")
    required_languages = ("en",)
