"""Demo content for ``manage.py load_demo``, as plain data.

Everything here is illustrative. The places, Don Manuel, the women's chocolate groups, the
Infierno Native Community, the Agrobosque Cooperative and Conservación Amazónica – ACCA
come from the two seed documents (Kallpa Travel's "The Chocolate Regions of Cusco" and
ACCA's note of March 2024); family names, founding years, member counts, prices, bank
details and e-mail addresses are invented for the demo. E-mail addresses use the reserved
``example.com`` / ``kallpa.example`` domains; CCIs and Stripe ids are fake.

A bilingual value is a ``T(en, es)``; the loader writes it to ``<field>_en`` and
``<field>_es``. Records are keyed by slug (users by e-mail), so the loader can update
them in place. Photos are ``(kind, caption)`` pairs: ``kind`` is one of
``cacaotours.core.demo_images.KINDS`` and selects the picture and its alt text.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import NamedTuple


class T(NamedTuple):
    """A translatable value: English and Spanish."""

    en: str
    es: str


def lines(*items: T) -> T:
    """Join bilingual list items into one-item-per-line text (includes, excludes, what to bring)."""
    return T("\n".join(item.en for item in items), "\n".join(item.es for item in items))


DEMO_PASSWORD = "cacao-demo-2026"  # noqa: S105 - public, local demo only; load_demo refuses to run without DEBUG
STAFF_EMAIL = "staff@kallpa.example"
OWNER_EMAIL = "owner@kallpa.example"
LEADER_EMAIL = "leader@kallpa.example"
TRAVELLER_EMAIL = "traveller@kallpa.example"

# --------------------------------------------------------------------------- photo alt text

# The demo photos are drawn by ``cacaotours.core.demo_images``; the alt text says what each kind
# of picture shows, the caption (per photo, below) says where it belongs.
PHOTO_ALT = {
    "valley": T(
        "Illustration of green hills and a river winding through a valley under a blue sky",
        "Ilustración de cerros verdes y un río que serpentea por un valle bajo el cielo azul",
    ),
    "cloud_forest": T(
        "Illustration of mist drifting between tall trees and palms in the cloud forest",
        "Ilustración de neblina entre árboles altos y palmeras del bosque nuboso",
    ),
    "cacao_pod": T(
        "Illustration of ripe cacao pods growing from the trunk of a cacao tree",
        "Ilustración de mazorcas de cacao maduras que crecen en el tronco de un árbol de cacao",
    ),
    "cacao_tree": T(
        "Illustration of a cacao tree with pods and a basket of harvested pods beneath it",
        "Ilustración de un árbol de cacao con mazorcas y una canasta de mazorcas cosechadas a sus pies",
    ),
    "fermentation": T(
        "Illustration of wooden fermentation boxes of cacao beans, some covered with banana leaves",
        "Ilustración de cajones de fermentación de madera con granos de cacao, algunos cubiertos con hojas de plátano",
    ),
    "drying": T(
        "Illustration of cacao beans drying on raised wooden beds in front of a farmhouse",
        "Ilustración de granos de cacao secándose en tarimas de madera frente a una casa de campo",
    ),
    "chocolate": T(
        "Illustration of chocolate bars, cacao beans, a bowl of cocoa and an open cacao pod on a table",
        "Ilustración de tabletas de chocolate, granos de cacao, un tazón de cacao y una mazorca abierta sobre una mesa",
    ),
    "coffee": T(
        "Illustration of ripe red coffee cherries along a branch",
        "Ilustración de cerezas de café rojas y maduras a lo largo de una rama",
    ),
    "lodge": T(
        "Illustration of a wooden lodge with solar panels and lit windows among palms at night",
        "Ilustración de un lodge de madera con paneles solares y ventanas iluminadas entre palmeras, de noche",
    ),
    "river": T(
        "Illustration of a canoe on a wide river lined with rainforest",
        "Ilustración de una canoa en un ancho río bordeado de selva",
    ),
    "market": T(
        "Illustration of colourful market stalls with vendors selling fruit and produce",
        "Ilustración de coloridos puestos de mercado con vendedoras de fruta y otros productos",
    ),
    "hands": T(
        "Illustration of hands holding an open cacao pod full of beans covered in white pulp",
        "Ilustración de manos que sostienen una mazorca de cacao abierta, llena de granos cubiertos de pulpa blanca",
    ),
}

# --------------------------------------------------------------------------- certifications

CERTIFICATIONS = [
    {"code": "organic", "name": T("Organic (EU and USDA NOP)", "Orgánico (UE y USDA NOP)")},
    {"code": "organic-in-transition", "name": T("In transition to organic", "En transición a orgánico")},
    {"code": "fairtrade", "name": T("Fairtrade", "Comercio Justo Fairtrade")},
    {"code": "spp", "name": T("Small Producers' Symbol (SPP)", "Símbolo de Pequeños Productores (SPP)")},
    {"code": "rainforest-alliance", "name": T("Rainforest Alliance", "Rainforest Alliance")},
]

# --------------------------------------------------------------------------- routes

ROUTES = [
    {
        "slug": "quillabamba-valley",
        "order": 1,
        "region": "La Convención, Cusco",
        "name": T("Quillabamba Valley", "Valle de Quillabamba"),
        "summary": T(
            "A warm valley below the Andes where families grow fine-aroma cacao under fruit trees, and the air "
            "smells of cacao fermenting in wooden boxes.",
            "Un valle cálido al pie de los Andes donde las familias cultivan cacao fino de aroma bajo árboles "
            "frutales, y el aire huele a cacao fermentando en cajones de madera.",
        ),
        "description": T(
            "In Quillabamba the air is thick with the aromas of fruit trees and of cacao fermenting in wooden "
            "boxes. Farmers like Don Manuel invite you to taste warm cacao pulp straight from the pod: a burst of "
            "tropical sweetness that tells you how far you are from the high Andes of Cusco.\n\n"
            "Cacao came to the Andes thousands of years ago. The Incas valued it for its flavour and offered it to "
            "the Pachamama, Mother Earth, as a symbol of abundance and gratitude. Today the families of the valley "
            "still farm small plots with organic methods handed down through generations. What they need is not "
            "to produce more, but for their cacao to be valued more.\n\n"
            "On this route you follow the bean from flower to bar: harvest, fermentation, drying, roasting and a "
            "chocolate workshop with the women who also make natural cosmetics from cocoa butter. Part of every "
            "booking goes to the cooperative, the host family and the women's group.",
            "En Quillabamba el aire está cargado del aroma de los frutales y del cacao que fermenta en cajones de "
            "madera. Agricultores como Don Manuel le invitan a probar la pulpa tibia del cacao recién abierto: un "
            "estallido de dulzura tropical que le recuerda lo lejos que está de los Andes de Cusco.\n\n"
            "El cacao llegó a los Andes hace miles de años. Los incas lo apreciaban por su sabor y lo ofrecían a "
            "la Pachamama, la Madre Tierra, como símbolo de abundancia y gratitud. Hoy las familias del valle "
            "siguen cultivando pequeñas parcelas con métodos orgánicos heredados de generación en generación. Lo "
            "que necesitan no es producir más, sino que su cacao se valore más.\n\n"
            "En esta ruta usted sigue el grano de la flor a la tableta: cosecha, fermentación, secado, tostado y un "
            "taller de chocolate con las mujeres que además elaboran cosmética natural con manteca de cacao. Una "
            "parte de cada reserva va a la cooperativa, a la familia anfitriona y al grupo de mujeres.",
        ),
        "photos": [
            ("valley", T("The Quillabamba valley, La Convención", "El valle de Quillabamba, La Convención")),
            ("cacao_tree", T("Cacao grown under fruit trees", "Cacao cultivado bajo frutales")),
            ("fermentation", T("Fermentation, the first step to flavour", "La fermentación, el primer paso del sabor")),
        ],
    },
    {
        "slug": "convencion-valley",
        "order": 2,
        "region": "La Convención, Cusco",
        "name": T("Convención Valley", "Valle de La Convención"),
        "summary": T(
            "Cacao in the lower valley, coffee on the cloud-forest slopes: family farms, native-tree reforestation "
            "and solar-powered eco-lodges.",
            "Cacao en el valle bajo y café en las laderas del bosque de neblina: fincas familiares, reforestación "
            "con árboles nativos y ecolodges con energía solar.",
        ),
        "description": T(
            "The Convención Valley drops from the snow of Abra Málaga to the warm river valleys of Echarate and "
            "Maranura. Cacao grows on the valley floor; higher up, coffee grows in the shade of the cloud forest.\n\n"
            "Many farmers here work with conservation organisations to replant native trees and protect the water "
            "sources of their communities. A visit is more than a tasting: you learn how agroforestry protects the "
            "forest canopy and the livelihoods beneath it, and you sleep in family eco-lodges powered by the sun.\n\n"
            "As Kallpa's founder Domingo says after his PROMPERÚ workshop in Costa Rica: sustainability is not an "
            "add-on, it is a way of life that includes community, local education and the pride of our people. "
            "Each trip on this route funds reforestation, youth training and the cooperative that buys the harvest.",
            "El valle de La Convención baja desde las nieves del Abra Málaga hasta los valles cálidos de Echarate y "
            "Maranura. El cacao crece en el fondo del valle; más arriba, el café crece a la sombra del bosque de "
            "neblina.\n\n"
            "Muchos agricultores trabajan con organizaciones de conservación para replantar árboles nativos y "
            "proteger las fuentes de agua de sus comunidades. Una visita es más que una degustación: usted aprende "
            "cómo la agroforestería protege el dosel del bosque y los medios de vida que crecen bajo él, y duerme en "
            "ecolodges familiares que funcionan con energía solar.\n\n"
            "Como dice Domingo, fundador de Kallpa, tras su taller de PROMPERÚ en Costa Rica: la sostenibilidad no "
            "es un añadido, es una forma de vida que abarca a la comunidad, la educación local y el orgullo de "
            "nuestra gente. Cada viaje en esta ruta financia reforestación, formación de jóvenes y la cooperativa "
            "que compra la cosecha.",
        ),
        "photos": [
            ("cloud_forest", T("Cloud forest above Huayopata", "Bosque de neblina sobre Huayopata")),
            ("coffee", T("Shade-grown coffee", "Café cultivado bajo sombra")),
            ("lodge", T("Eco-lodge nights with host families", "Noches en ecolodges con familias anfitrionas")),
        ],
    },
    {
        "slug": "madre-de-dios-rainforest",
        "order": 3,
        "region": "Tambopata, Madre de Dios",
        "name": T("Madre de Dios rainforest", "Selva de Madre de Dios"),
        "summary": T(
            "In the Amazon lowlands near Puerto Maldonado, the Infierno Native Community grows cacao in "
            "agroforestry systems and is taking it to the international market.",
            "En la llanura amazónica cerca de Puerto Maldonado, la Comunidad Nativa Infierno cultiva cacao en "
            "sistemas agroforestales y lo está llevando al mercado internacional.",
        ),
        "description": T(
            "Beyond the Andes lies the lush pulse of the Amazon. The Agroforestry Association of the Infierno "
            "Native Community manages 21 hectares (about 52 acres) of agroforestry systems dedicated to cacao and "
            "runs a processing plant that can handle 19,000 kilos of cacao pulp a month.\n\n"
            "With technical advice from Conservación Amazónica – ACCA, the association has agreed purchases with "
            "the Agrobosque Cooperative, which supports post-harvest processing, quality and organic certification, "
            "and opens doors to national fairs such as ExpoAmazónica.\n\n"
            "Visiting with a local guide, you walk the agroforestry plots, see how the harvest is processed and taste "
            "rainforest cacao by the river. Part of every booking goes to the association, the host families and "
            "youth training in sustainable agriculture.",
            "Más allá de los Andes late la Amazonía. La Asociación Agroforestal de la Comunidad Nativa Infierno "
            "maneja 21 hectáreas de sistemas agroforestales dedicadas al cacao y cuenta con una planta de "
            "procesamiento con capacidad para 19 mil kilos de pulpa de cacao al mes.\n\n"
            "Con la asesoría técnica de Conservación Amazónica – ACCA, la asociación acordó compras con la "
            "Cooperativa Agrobosque, que la apoya en la poscosecha, la calidad y la certificación orgánica, y le abre "
            "las puertas a ferias nacionales como ExpoAmazónica.\n\n"
            "Con un guía local usted recorre las parcelas agroforestales, ve cómo se procesa la cosecha y prueba cacao "
            "amazónico junto al río. Una parte de cada reserva va a la asociación, a las familias anfitrionas y a la "
            "formación de jóvenes en agricultura sostenible.",
        ),
        "photos": [
            ("river", T("The Tambopata river near Infierno", "El río Tambopata cerca de Infierno")),
            ("cacao_pod", T("Rainforest cacao", "Cacao amazónico")),
            ("hands", T("The harvest of the Infierno Native Community", "La cosecha de la Comunidad Nativa Infierno")),
        ],
    },
]

# --------------------------------------------------------------------------- cooperatives and funds

COOPERATIVES = [
    {
        "slug": "quillabamba-cacao-producers",
        "name": T("Quillabamba Cacao Producers' Cooperative", "Cooperativa de Productores de Cacao de Quillabamba"),
        "community": "Santa Ana, Quillabamba",
        "region": "La Convención, Cusco",
        "founded": 1998,
        "members": 86,
        "certifications": ["organic", "fairtrade", "spp"],
        "summary": T(
            "Eighty-six families of the Quillabamba valley who ferment, dry and sell their fine-aroma cacao together.",
            "Ochenta y seis familias del valle de Quillabamba que fermentan, secan y venden juntas su cacao fino de "
            "aroma.",
        ),
        "story": T(
            "The cooperative began when a handful of families decided to stop selling wet beans to passing "
            "middlemen and to ferment and dry their cacao together. Today its post-harvest centre in Santa Ana "
            "receives the beans of 86 member families, most of them farming two to five hectares under fruit and "
            "native trees.\n\n"
            "Its members farm organically, as their parents did, and the cooperative pays for certification, quality "
            "training and a cupping lab where farmers taste their own chocolate. Tourism is its newest harvest: "
            "visitors who learn the story behind each bar are the buyers who value it most. Shares of tour bookings "
            "pay for training and the post-harvest centre.",
            "La cooperativa nació cuando unas cuantas familias decidieron dejar de vender grano en baba a los "
            "intermediarios y fermentar y secar juntas su cacao. Hoy su centro de poscosecha en Santa Ana recibe el "
            "grano de 86 familias socias, la mayoría con dos a cinco hectáreas bajo frutales y árboles nativos.\n\n"
            "Sus socios cultivan de forma orgánica, como lo hacían sus padres, y la cooperativa paga la "
            "certificación, la capacitación en calidad y un laboratorio de catación donde los agricultores prueban "
            "su propio chocolate. El turismo es su cosecha más nueva: quien conoce la historia detrás de cada tableta "
            "es quien más la valora. La parte de las reservas financia capacitación y el centro de poscosecha.",
        ),
        "contact_name": "Rosa Huamán",
        "contact_email": "cooperativa.quillabamba@example.com",
        "contact_phone": "+51 900 000 101",
        "payout_method": "bank_transfer",
        "bank_name": "Banco de Crédito del Perú (BCP)",
        "bank_account_holder": "Cooperativa de Productores de Cacao de Quillabamba",
        "bank_cci": "00228519300000101458",
    },
    {
        "slug": "convencion-cacao-coffee",
        "name": T(
            "Convención Valley Cacao & Coffee Cooperative", "Cooperativa de Cacao y Café del Valle de La Convención"
        ),
        "community": "Echarate and Maranura",
        "region": "La Convención, Cusco",
        "founded": 2006,
        "members": 142,
        "certifications": ["organic", "fairtrade", "rainforest-alliance"],
        "summary": T(
            "Cacao growers of the valley floor and coffee growers of the cloud-forest slopes, marketing together.",
            "Cacaoteros del fondo del valle y cafetaleros de las laderas del bosque de neblina, vendiendo juntos.",
        ),
        "story": T(
            "In the Convención Valley many families grow both crops: cacao near the river, coffee higher up where "
            "the clouds settle in the afternoon. The cooperative brings 142 of them together to process, certify and "
            "export.\n\n"
            "Its members have replanted native trees on eroded slopes and protect the springs that feed their "
            "communities, working with local conservation groups. The cooperative manages the cloud-forest "
            "reforestation fund that travellers on the cacao-and-coffee routes help to pay for, and several member "
            "families host travellers in small solar-powered eco-lodges.",
            "En el valle de La Convención muchas familias cultivan ambos productos: cacao cerca del río y café más "
            "arriba, donde las nubes se asientan por la tarde. La cooperativa reúne a 142 de ellas para procesar, "
            "certificar y exportar.\n\n"
            "Sus socios han replantado árboles nativos en laderas erosionadas y protegen los manantiales que abastecen "
            "a sus comunidades, junto con grupos de conservación locales. La cooperativa administra el fondo de "
            "reforestación del bosque de neblina que los viajeros de las rutas del cacao y el café ayudan a "
            "financiar, y varias familias socias reciben viajeros en pequeños ecolodges con energía solar.",
        ),
        "contact_name": "Wilber Quispe",
        "contact_email": "convencion.coop@example.com",
        "contact_phone": "+51 900 000 102",
        "payout_method": "stripe_connect",
        "stripe_account_id": "acct_1KallpaDemoConv01",
        "stripe_transfers_enabled": True,
    },
    {
        "slug": "agrobosque",
        "name": T("Agrobosque Cooperative", "Cooperativa Agrobosque"),
        "community": "Puerto Maldonado",
        "region": "Tambopata, Madre de Dios",
        "founded": None,
        "members": 60,
        "certifications": ["organic"],
        "summary": T(
            "A Madre de Dios cooperative that buys, processes and certifies agroforestry cacao from rainforest "
            "communities.",
            "Cooperativa de Madre de Dios que compra, procesa y certifica cacao agroforestal de comunidades "
            "amazónicas.",
        ),
        "story": T(
            "The Agrobosque Cooperative works with producers across Madre de Dios on the post-harvest processes that "
            "decide the quality of cacao. In February 2024 its directors agreed to buy cacao produced by the "
            "Infierno Native Community, and hosted the community's agroforestry association at its facilities for "
            "an exchange of experiences on raising production volumes and reaching international markets.\n\n"
            "The partnership brings technical support, delivery of quality cacao and the chance to obtain and keep "
            "organic certification, as well as joint participation in trade fairs and business conferences.",
            "La Cooperativa Agrobosque trabaja con productores de todo Madre de Dios en los procesos de poscosecha "
            "que deciden la calidad del cacao. En febrero de 2024 sus directivos acordaron comprar el cacao de la "
            "Comunidad Nativa Infierno y recibieron a su asociación agroforestal en sus instalaciones para un "
            "intercambio de experiencias sobre cómo aumentar los volúmenes de producción y llegar a mercados "
            "internacionales.\n\n"
            "La alianza aporta apoyo técnico, entrega de cacao de calidad y la posibilidad de obtener y mantener la "
            "certificación orgánica, además de participar juntos en ferias y ruedas de negocios.",
        ),
        "contact_name": "Luis Cárdenas",
        "contact_email": "agrobosque@example.com",
        "contact_phone": "+51 900 000 103",
        "payout_method": "bank_transfer",
        "bank_name": "BBVA Perú",
        "bank_account_holder": "Cooperativa Agrobosque (demo)",
        "bank_cci": "01131000020000361479",
    },
    {
        "slug": "infierno-agroforestry-association",
        "name": T(
            "Agroforestry Association of the Infierno Native Community",
            "Asociación Agroforestal de la Comunidad Nativa Infierno",
        ),
        "community": "Comunidad Nativa Infierno",
        "region": "Tambopata, Madre de Dios",
        "founded": None,
        "members": 35,
        "certifications": ["organic-in-transition"],
        "summary": T(
            "21 hectares of agroforestry cacao and a processing plant for 19,000 kilos of cacao pulp a month.",
            "21 hectáreas de cacao agroforestal y una planta de procesamiento para 19 mil kilos de pulpa al mes.",
        ),
        "story": T(
            "The Agroforestry Association of the Infierno Native Community has 21 hectares (about 52 acres) of "
            "agroforestry systems dedicated to cacao, and a processing plant with the capacity to process 19,000 "
            "kilos (41,888 pounds) of cacao pulp per month.\n\n"
            "With technical advice from Conservación Amazónica – ACCA and funding from the EROL Foundation, the "
            "association is building a commercial strategy to make its agroforestry production profitable and to "
            "take part in fairs and business roundtables such as ExpoAmazónica. Its partnership with the Agrobosque "
            "Cooperative opens the way to organic certification and the international market. Its payout details "
            "are not set up yet: its shares are kept as owed until they are.",
            "La Asociación Agroforestal de la Comunidad Nativa Infierno cuenta con 21 hectáreas de sistemas "
            "agroforestales dedicadas al cacao y una planta de procesamiento con capacidad para 19 mil kilos de "
            "pulpa de cacao al mes.\n\n"
            "Con la asesoría técnica de Conservación Amazónica – ACCA y el financiamiento de la Fundación EROL, la "
            "asociación construye una estrategia comercial para hacer rentable su producción agroforestal y "
            "participar en ferias y ruedas de negocios como ExpoAmazónica. Su alianza con la Cooperativa Agrobosque "
            "le abre el camino a la certificación orgánica y al mercado internacional. Sus datos de pago aún no están "
            "configurados: sus partes se guardan como adeudadas hasta entonces.",
        ),
        "contact_name": "Community coordinator",
        "contact_email": "infierno.agroforestal@example.com",
        "contact_phone": "",
        "payout_method": "none",
    },
]

FUNDS = [
    {
        "slug": "cloud-forest-reforestation",
        "purpose": "reforestation",
        "cooperative": "convencion-cacao-coffee",
        "name": T("Cloud-forest reforestation fund", "Fondo de reforestación del bosque de neblina"),
        "summary": T(
            "Native seedlings, nurseries and planting days on the eroded slopes above the coffee farms.",
            "Plantones nativos, viveros y jornadas de plantación en las laderas erosionadas sobre los cafetales.",
        ),
        "description": T(
            "The fund pays for a community nursery of native trees (cedar, pacay, tornillo and others), for the "
            "seedlings that families plant on eroded slopes and for the care of the young trees in their first dry "
            "seasons. Travellers on the Convención Valley route plant a tree of their own and come back to a forest "
            "that keeps the water sources flowing.",
            "El fondo paga un vivero comunal de árboles nativos (cedro, pacay, tornillo y otros), los plantones que "
            "las familias siembran en laderas erosionadas y el cuidado de los árboles jóvenes en sus primeras "
            "temporadas secas. Los viajeros de la ruta del valle de La Convención siembran su propio árbol y "
            "vuelven a un bosque que mantiene vivas las fuentes de agua.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "Caja Cusco",
        "bank_account_holder": "Comité de Reforestación de La Convención (demo)",
        "bank_cci": "80628500000000412367",
    },
    {
        "slug": "warmikuna-chocolate-makers",
        "purpose": "women",
        "cooperative": "quillabamba-cacao-producers",
        "name": T(
            "Warmikuna women's chocolate and cocoa-butter cosmetics group",
            "Grupo de mujeres Warmikuna: chocolate y cosmética de manteca de cacao",
        ),
        "summary": T(
            "Women of the valley who make artisanal chocolate and natural cosmetics from cocoa butter.",
            "Mujeres del valle que elaboran chocolate artesanal y cosmética natural con manteca de cacao.",
        ),
        "description": T(
            "Warmikuna means 'the women' in Quechua. The group makes stone-ground chocolate, cacao nibs and natural "
            "cosmetics from cocoa butter: lip balms, soaps and body butter. Their products spread the income of the "
            "harvest through the whole community. The fund pays for moulds, a small conche, packaging and the "
            "training of new members.",
            "Warmikuna significa 'las mujeres' en quechua. El grupo elabora chocolate molido en piedra, nibs de cacao "
            "y cosmética natural con manteca de cacao: bálsamos labiales, jabones y cremas corporales. Sus productos "
            "reparten el ingreso de la cosecha en toda la comunidad. El fondo paga moldes, una pequeña conchadora, "
            "empaques y la capacitación de nuevas socias.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "Banco de la Nación",
        "bank_account_holder": "Asociación de Mujeres Warmikuna (demo)",
        "bank_cci": "01828500000000523481",
    },
    {
        "slug": "youth-agroforestry-training",
        "purpose": "youth",
        "cooperative": None,
        "name": T("Youth agroforestry training", "Formación de jóvenes en agroforestería"),
        "summary": T(
            "Training for young people in grafting, pruning, post-harvest quality and local guiding.",
            "Formación para jóvenes en injertos, podas, calidad de poscosecha y guiado local.",
        ),
        "description": T(
            "Young people of the cacao communities learn to graft fine-aroma varieties, prune and manage shade, "
            "ferment and dry for quality, and guide visitors on their own farms. The fund pays for instructors, "
            "tools, travel to exchange visits between Cusco and Madre de Dios, and a stipend during the course.",
            "Los jóvenes de las comunidades cacaoteras aprenden a injertar variedades finas de aroma, podar y manejar "
            "la sombra, fermentar y secar con calidad, y guiar a los visitantes en sus propias fincas. El fondo paga "
            "instructores, herramientas, viajes de intercambio entre Cusco y Madre de Dios y un estipendio durante "
            "el curso.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "Interbank",
        "bank_account_holder": "Programa de Jóvenes Agroforestales (demo)",
        "bank_cci": "00328500000000634592",
    },
    {
        "slug": "quillabamba-water-sources",
        "purpose": "water",
        "cooperative": "quillabamba-cacao-producers",
        "name": T("Quillabamba water sources", "Fuentes de agua de Quillabamba"),
        "summary": T(
            "Protecting the springs and streams that water the valley's farms and homes.",
            "Protección de los manantiales y quebradas que riegan las chacras y abastecen los hogares del valle.",
        ),
        "description": T(
            "Families fence and replant the springs above their farms so that cattle and erosion do not dry them up. "
            "The fund buys fencing, native seedlings and simple water-quality kits. Its payout details are not set up "
            "yet, so its shares are kept as owed.",
            "Las familias cercan y reforestan los manantiales sobre sus chacras para que el ganado y la erosión no "
            "los sequen. El fondo compra cercos, plantones nativos y kits sencillos de calidad del agua. Sus datos "
            "de pago aún no están configurados, así que sus partes se guardan como adeudadas.",
        ),
        "payout_method": "none",
    },
]

# --------------------------------------------------------------------------- farms

FARMS = [
    {
        "slug": "don-manuel-family-farm",
        "name": T("Don Manuel's family farm", "La chacra de la familia de Don Manuel"),
        "host_family": "Familia de Don Manuel",
        "cooperative": "quillabamba-cacao-producers",
        "region": "Santa Ana, Quillabamba, La Convención",
        "altitude_m": 1050,
        "hectares": Decimal("4.50"),
        "crops": {"grows_cacao": True, "grows_coffee": False, "grows_fruit": True},
        "practices": {"agroforestry": True, "organic": True, "reforestation": True, "eco_lodge": False},
        "latitude": Decimal("-12.852400"),
        "longitude": Decimal("-72.701800"),
        "summary": T(
            "Taste warm cacao pulp straight from the pod with Don Manuel, among mango, avocado and citrus trees.",
            "Pruebe la pulpa tibia del cacao recién abierto con Don Manuel, entre mangos, paltos y cítricos.",
        ),
        "story": T(
            "Don Manuel's family has farmed this hillside above the Vilcanota for three generations. Their cacao "
            "grows in the shade of mango, avocado, orange and native trees, and the wooden fermentation boxes sit "
            "next to the house, so the whole farm smells of fruit and cacao.\n\n"
            "Don Manuel likes to start every visit the same way: he cuts a ripe pod and offers you the warm white "
            "pulp. Then he shows how the beans ferment for six days, dry in the sun and roast over a wood fire. "
            "Lunch is cooked by the family with what the farm grows. The family has replanted native trees along "
            "the stream below the farm.",
            "La familia de Don Manuel cultiva esta ladera sobre el Vilcanota desde hace tres generaciones. Su cacao "
            "crece a la sombra de mangos, paltos, naranjos y árboles nativos, y los cajones de fermentación de "
            "madera están junto a la casa, así que toda la chacra huele a fruta y a cacao.\n\n"
            "A Don Manuel le gusta empezar cada visita igual: abre una mazorca madura y le ofrece la pulpa blanca y "
            "tibia. Luego muestra cómo el grano fermenta seis días, se seca al sol y se tuesta a leña. El almuerzo lo "
            "cocina la familia con lo que da la chacra. La familia ha replantado árboles nativos a lo largo de la "
            "quebrada bajo la finca.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "Caja Cusco",
        "bank_account_holder": "Manuel Quispe Huamán (demo)",
        "bank_cci": "80628500000000745612",
        "photos": [
            ("hands", T("The first taste: warm cacao pulp", "El primer sabor: pulpa tibia de cacao")),
            ("fermentation", T("Six days of fermentation", "Seis días de fermentación")),
            ("drying", T("Drying in the sun", "Secado al sol")),
        ],
    },
    {
        "slug": "sambaray-chocolate-house",
        "name": T("Sambaray chocolate house", "Casa del chocolate de Sambaray"),
        "host_family": "Familia Ccahuana Ríos",
        "cooperative": "quillabamba-cacao-producers",
        "region": "Sambaray, Santa Ana, La Convención",
        "altitude_m": 1010,
        "hectares": Decimal("2.80"),
        "crops": {"grows_cacao": True, "grows_coffee": False, "grows_fruit": True},
        "practices": {"agroforestry": True, "organic": True, "reforestation": False, "eco_lodge": False},
        "latitude": Decimal("-12.893000"),
        "longitude": Decimal("-72.718000"),
        "summary": T(
            "Home of the Warmikuna women's group: stone-ground chocolate and cocoa-butter cosmetics.",
            "Hogar del grupo de mujeres Warmikuna: chocolate molido en piedra y cosmética de manteca de cacao.",
        ),
        "story": T(
            "Yolanda Ccahuana turned the back room of her house into the workshop of the Warmikuna women's group. "
            "Here the women roast the family's cacao in a clay pot, grind it on a stone batán and temper it on a "
            "marble slab. From the cocoa butter they make lip balms, soaps and body butter scented with the valley's "
            "herbs.\n\n"
            "Visitors make a bar of their own and a small jar of balm to take home, and learn why selling a finished "
            "product instead of dry beans keeps more of the harvest's income in the community.",
            "Yolanda Ccahuana convirtió el cuarto del fondo de su casa en el taller del grupo de mujeres Warmikuna. "
            "Aquí las mujeres tuestan el cacao de la familia en una olla de barro, lo muelen en un batán de piedra y "
            "lo temperan sobre mármol. Con la manteca de cacao elaboran bálsamos labiales, jabones y cremas "
            "corporales perfumadas con hierbas del valle.\n\n"
            "Los visitantes preparan su propia tableta y un frasquito de bálsamo para llevar, y aprenden por qué "
            "vender un producto terminado en lugar de grano seco deja más ingreso de la cosecha en la comunidad.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "Banco de Crédito del Perú (BCP)",
        "bank_account_holder": "Yolanda Ccahuana Ríos (demo)",
        "bank_cci": "00228519300000856723",
        "photos": [
            ("chocolate", T("Stone-ground chocolate", "Chocolate molido en piedra")),
            ("hands", T("Cocoa butter starts in the pod", "La manteca de cacao nace en la mazorca")),
        ],
    },
    {
        "slug": "las-orquideas-echarate",
        "name": T("Las Orquídeas farm and eco-lodge", "Finca y ecolodge Las Orquídeas"),
        "host_family": "Familia Huamán Condori",
        "cooperative": "convencion-cacao-coffee",
        "region": "Echarate, La Convención",
        "altitude_m": 930,
        "hectares": Decimal("7.20"),
        "crops": {"grows_cacao": True, "grows_coffee": False, "grows_fruit": True},
        "practices": {"agroforestry": True, "organic": True, "reforestation": True, "eco_lodge": True},
        "latitude": Decimal("-12.768000"),
        "longitude": Decimal("-72.581000"),
        "summary": T(
            "Cacao, orchids and a solar-powered lodge of four rooms by the Echarate river.",
            "Cacao, orquídeas y un lodge de cuatro habitaciones con energía solar junto al río Echarate.",
        ),
        "story": T(
            "Rubén and Marisol Huamán planted cacao among the orchids their grandmother collected, and later built "
            "four rooms of local wood powered by solar panels. Guests fall asleep to the river and wake to the "
            "birds in the shade trees.\n\n"
            "The family has reforested two hectares of former pasture with native trees, and their plot is a "
            "demonstration farm of the cooperative for grafting fine-aroma cacao.",
            "Rubén y Marisol Huamán sembraron cacao entre las orquídeas que coleccionaba su abuela, y luego "
            "construyeron cuatro habitaciones de madera local con paneles solares. Los huéspedes se duermen con el "
            "río y despiertan con las aves de los árboles de sombra.\n\n"
            "La familia ha reforestado dos hectáreas de antiguo pastizal con árboles nativos, y su parcela es finca "
            "demostrativa de la cooperativa para el injerto de cacao fino de aroma.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "Interbank",
        "bank_account_holder": "Rubén Huamán Condori (demo)",
        "bank_cci": "00328500000000967834",
        "photos": [
            ("lodge", T("Four rooms, solar powered", "Cuatro habitaciones con energía solar")),
            ("cacao_tree", T("Grafted fine-aroma cacao", "Cacao fino de aroma injertado")),
        ],
    },
    {
        "slug": "santa-rosa-maranura",
        "name": T("Santa Rosa farm, Maranura", "Chacra Santa Rosa de Maranura"),
        "host_family": "Familia Quispe Layme",
        "cooperative": "convencion-cacao-coffee",
        "region": "Maranura, La Convención",
        "altitude_m": 1180,
        "hectares": Decimal("3.60"),
        "crops": {"grows_cacao": True, "grows_coffee": True, "grows_fruit": True},
        "practices": {"agroforestry": True, "organic": True, "reforestation": False, "eco_lodge": False},
        "latitude": Decimal("-12.962000"),
        "longitude": Decimal("-72.664000"),
        "summary": T(
            "Where cacao meets coffee: drying terraces, a wood-fired roaster and a view over the valley.",
            "Donde el cacao se encuentra con el café: tendales de secado, un tostador a leña y vista al valle.",
        ),
        "story": T(
            "At 1,180 metres the Quispe Layme family grows cacao on the lower terraces and coffee on the upper ones. "
            "Their drying terraces and wood-fired roaster are the best place to compare how the two beans are "
            "processed, and to taste both side by side.\n\n"
            "The family joined the hosting programme recently; their payout details are still being set up, so "
            "their shares are kept as owed.",
            "A 1.180 metros, la familia Quispe Layme cultiva cacao en las terrazas bajas y café en las altas. Sus "
            "tendales de secado y su tostador a leña son el mejor lugar para comparar cómo se procesan ambos granos "
            "y probarlos lado a lado.\n\n"
            "La familia se unió hace poco al programa de anfitriones; sus datos de pago aún se están configurando, "
            "así que sus partes se guardan como adeudadas.",
        ),
        "payout_method": "none",
        "photos": [
            ("drying", T("Drying beds in Maranura", "Tendales de secado en Maranura")),
            ("valley", T("The valley from Santa Rosa", "El valle desde Santa Rosa")),
        ],
    },
    {
        "slug": "nube-verde-huayopata",
        "name": T("Nube Verde cloud-forest coffee farm", "Cafetal Nube Verde"),
        "host_family": "Familia Mamani Soto",
        "cooperative": "convencion-cacao-coffee",
        "region": "Huayopata, La Convención",
        "altitude_m": 1680,
        "hectares": Decimal("9.50"),
        "crops": {"grows_cacao": False, "grows_coffee": True, "grows_fruit": True},
        "practices": {"agroforestry": True, "organic": True, "reforestation": True, "eco_lodge": True},
        "latitude": Decimal("-13.008000"),
        "longitude": Decimal("-72.550000"),
        "summary": T(
            "Shade-grown coffee in the clouds, a native-tree nursery and three lodge rooms with a view.",
            "Café bajo sombra entre las nubes, un vivero de árboles nativos y tres habitaciones con vista.",
        ),
        "story": T(
            "Elena Mamani's coffee grows under pacay and native trees on slopes where the clouds arrive every "
            "afternoon. The family keeps the community nursery of the cloud-forest reforestation fund: every "
            "traveller plants a seedling and gets its coordinates.\n\n"
            "At dawn the forest above the farm is full of birds; after breakfast you pick ripe red cherries, and in "
            "the afternoon roast and cup the coffee with the family.",
            "El café de Elena Mamani crece bajo pacaes y árboles nativos en laderas adonde llegan las nubes cada "
            "tarde. La familia cuida el vivero comunal del fondo de reforestación del bosque de neblina: cada viajero "
            "siembra un plantón y recibe sus coordenadas.\n\n"
            "Al amanecer el bosque sobre la finca se llena de aves; después del desayuno usted cosecha cerezas rojas "
            "y por la tarde tuesta y cata el café con la familia.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "BBVA Perú",
        "bank_account_holder": "Elena Mamani Soto (demo)",
        "bank_cci": "01131000020001078945",
        "photos": [
            ("cloud_forest", T("Coffee in the clouds", "Café entre las nubes")),
            ("coffee", T("Harvest at Nube Verde", "Cosecha en Nube Verde")),
            ("lodge", T("Three rooms with a view", "Tres habitaciones con vista")),
        ],
    },
    {
        "slug": "infierno-agroforestry-plot",
        "name": T("Infierno community agroforestry plot", "Parcela agroforestal de la Comunidad Nativa Infierno"),
        "host_family": "Familia Durand Vargas",
        "cooperative": "infierno-agroforestry-association",
        "region": "Comunidad Nativa Infierno, Tambopata, Madre de Dios",
        "altitude_m": 200,
        "hectares": Decimal("5.00"),
        "crops": {"grows_cacao": True, "grows_coffee": False, "grows_fruit": True},
        "practices": {"agroforestry": True, "organic": False, "reforestation": True, "eco_lodge": False},
        "latitude": Decimal("-12.833000"),
        "longitude": Decimal("-69.293000"),
        "summary": T(
            "Cacao under the rainforest canopy, next to the community's cacao processing plant.",
            "Cacao bajo el dosel amazónico, junto a la planta de procesamiento de cacao de la comunidad.",
        ),
        "story": T(
            "This family plot is part of the 21 hectares of agroforestry systems of the Infierno Native Community. "
            "Cacao grows with banana, copoazú and timber trees that the family planted where there was once "
            "pasture.\n\n"
            "A short walk away is the community's processing plant, where the harvest of the association is "
            "fermented and dried to the standards agreed with the Agrobosque Cooperative. The plot is in transition "
            "to organic certification.",
            "Esta parcela familiar es parte de las 21 hectáreas de sistemas agroforestales de la Comunidad Nativa "
            "Infierno. El cacao crece con plátano, copoazú y árboles maderables que la familia sembró donde antes "
            "había pasto.\n\n"
            "A poca distancia está la planta de procesamiento de la comunidad, donde la cosecha de la asociación se "
            "fermenta y seca según los estándares acordados con la Cooperativa Agrobosque. La parcela está en "
            "transición a la certificación orgánica.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "Banco de la Nación",
        "bank_account_holder": "Teófilo Durand Vargas (demo)",
        "bank_cci": "01826500000001189056",
        "photos": [
            ("cacao_tree", T("Agroforestry in the Amazon", "Agroforestería en la Amazonía")),
            ("fermentation", T("The community processing plant", "La planta de procesamiento comunal")),
        ],
    },
    {
        "slug": "tambopata-riverbank-lodge",
        "name": T("Riverbank cacao farm and lodge on the Tambopata", "Chacra y lodge ribereño del Tambopata"),
        "host_family": "Familia Cueva Torres",
        "cooperative": "agrobosque",
        "region": "Infierno, Tambopata, Madre de Dios",
        "altitude_m": 190,
        "hectares": Decimal("12.00"),
        "crops": {"grows_cacao": True, "grows_coffee": False, "grows_fruit": True},
        "practices": {"agroforestry": True, "organic": True, "reforestation": True, "eco_lodge": True},
        "latitude": Decimal("-12.847000"),
        "longitude": Decimal("-69.279000"),
        "summary": T(
            "Organic cacao by the Tambopata river, with a family lodge for rainforest nights.",
            "Cacao orgánico a orillas del río Tambopata, con un lodge familiar para noches en la selva.",
        ),
        "story": T(
            "The Cueva Torres family sells its certified organic cacao through the Agrobosque Cooperative and hosts "
            "travellers in a lodge of five rooms on stilts above the riverbank. Evenings are for night walks with a "
            "local guide; mornings for the harvest.\n\n"
            "Their plot shows what the Infierno association is working towards: a well-run agroforestry system, "
            "careful post-harvest and a buyer who pays for quality.",
            "La familia Cueva Torres vende su cacao orgánico certificado a través de la Cooperativa Agrobosque y "
            "recibe viajeros en un lodge de cinco habitaciones sobre pilotes junto al río. Las noches son para "
            "caminatas nocturnas con un guía local; las mañanas, para la cosecha.\n\n"
            "Su parcela muestra hacia dónde trabaja la asociación de Infierno: un sistema agroforestal bien manejado, "
            "una poscosecha cuidadosa y un comprador que paga por la calidad.",
        ),
        "payout_method": "bank_transfer",
        "bank_name": "Banco de Crédito del Perú (BCP)",
        "bank_account_holder": "Carmen Torres Cueva (demo)",
        "bank_cci": "00226500000001290167",
        "photos": [
            ("river", T("Life by the river", "La vida junto al río")),
            ("lodge", T("Rainforest nights", "Noches en la selva")),
            ("market", T("From the farm to the fair", "De la chacra a la feria")),
        ],
    },
]

# --------------------------------------------------------------------------- tours

MEET_QUILLABAMBA = T(
    "Plaza de Armas of Quillabamba, by the fountain (hotel pick-up in town on request)",
    "Plaza de Armas de Quillabamba, junto a la pileta (recojo en hoteles de la ciudad a pedido)",
)
MEET_CUSCO = T(
    "Kallpa Travel office in the historic centre of Cusco (the address is in your confirmation e-mail)",
    "Oficina de Kallpa Travel en el centro histórico de Cusco (la dirección está en su correo de confirmación)",
)
MEET_MALDONADO = T(
    "Hotel pick-up in Puerto Maldonado, or the Plaza de Armas of Puerto Maldonado",
    "Recojo en su hotel de Puerto Maldonado, o en la Plaza de Armas de Puerto Maldonado",
)

INC_GUIDE = T("Bilingual local guide (Spanish and English)", "Guía local bilingüe (español e inglés)")
INC_TRANSPORT = T("Transport in a private vehicle", "Transporte en vehículo privado")
INC_LUNCH = T("Lunch cooked by the host family", "Almuerzo preparado por la familia anfitriona")
INC_TASTING = T("Cacao and chocolate tasting", "Degustación de cacao y chocolate")
INC_BAR = T("A chocolate bar you make yourself", "Una tableta de chocolate hecha por usted")
INC_SHARE = T(
    "The community share of your booking, paid to the families and funds listed",
    "La parte comunitaria de su reserva, pagada a las familias y fondos indicados",
)
INC_LODGE = T(
    "Nights in family eco-lodges (shared bathroom on some nights)",
    "Noches en ecolodges familiares (baño compartido algunas noches)",
)
INC_MEALS = T("All meals during the tour", "Todas las comidas durante el tour")
EXC_TIPS = T("Tips", "Propinas")
EXC_INSURANCE = T("Travel insurance", "Seguro de viaje")
EXC_DRINKS = T("Drinks other than water, cacao and coffee", "Bebidas distintas de agua, cacao y café")
EXC_FLIGHTS = T("Flights to Puerto Maldonado", "Vuelos a Puerto Maldonado")
BRING_SHOES = T("Closed walking shoes that can get muddy", "Zapatos cerrados para caminar que puedan embarrarse")
BRING_REPELLENT = T("Insect repellent", "Repelente de insectos")
BRING_SUN = T("Sun hat and sunscreen", "Sombrero y bloqueador solar")
BRING_RAIN = T("Light rain jacket", "Casaca ligera para la lluvia")
BRING_WATER = T("Refillable water bottle", "Botella de agua reutilizable")
BRING_WARM = T("A warm layer for the Abra Málaga pass (4,300 m)", "Una prenda abrigadora para el Abra Málaga (4.300 m)")
BRING_CASH = T(
    "Some cash in soles for the women's and cooperative's shops",
    "Algo de efectivo en soles para las tiendas de las mujeres y de la cooperativa",
)


def _stop(day, order, at, activity, title, description, farm=None):
    return {
        "day": day,
        "order": order,
        "time": at,
        "activity": activity,
        "farm": farm,
        "title": title,
        "description": description,
    }


TOURS = [
    {
        "slug": "pod-to-bar-don-manuel",
        "route": "quillabamba-valley",
        "title": T("From pod to bar at Don Manuel's farm", "De la mazorca a la tableta en la chacra de Don Manuel"),
        "summary": T(
            "A full day on a family cacao farm in Quillabamba: harvest, fermentation, drying, roasting and a "
            "chocolate workshop with the Warmikuna women.",
            "Un día completo en una chacra familiar de cacao en Quillabamba: cosecha, fermentación, secado, tostado "
            "y un taller de chocolate con las mujeres Warmikuna.",
        ),
        "description": T(
            "Spend a day with Don Manuel's family and follow cacao from the tree to the bar. You taste warm pulp "
            "straight from the pod, open the fermentation boxes, turn the drying beans, roast them over a wood fire "
            "and, in the afternoon, make your own bar with the Warmikuna women's group in Sambaray.\n\n"
            "It is a lifestyle exchange more than a tasting: the family shares lunch, stories of the valley and how "
            "agroforestry keeps both the trees and their income alive.",
            "Pase un día con la familia de Don Manuel y siga el cacao del árbol a la tableta. Usted prueba la pulpa "
            "tibia de la mazorca, abre los cajones de fermentación, voltea el grano que se seca, lo tuesta a leña "
            "y, por la tarde, hace su propia tableta con el grupo de mujeres Warmikuna en Sambaray.\n\n"
            "Es un intercambio de vida más que una degustación: la familia comparte el almuerzo, historias del valle "
            "y cómo la agroforestería mantiene vivos los árboles y su ingreso.",
        ),
        "duration_days": 1,
        "duration_hours": 9,
        "difficulty": "easy",
        "languages": "es,en",
        "meeting_point": MEET_QUILLABAMBA,
        "includes": lines(INC_GUIDE, INC_TRANSPORT, INC_LUNCH, INC_TASTING, INC_BAR, INC_SHARE),
        "excludes": lines(EXC_TIPS, EXC_INSURANCE, EXC_DRINKS),
        "what_to_bring": lines(BRING_SHOES, BRING_REPELLENT, BRING_SUN, BRING_WATER, BRING_CASH),
        "min_group": 2,
        "max_group": 12,
        "currency": "PEN",
        "adult_price": 18000,
        "child_price": 9000,
        "is_published": True,
        "is_featured": True,
        "stops": [
            _stop(
                1,
                1,
                time(7, 30),
                "travel",
                T("Pick-up in Quillabamba", "Recojo en Quillabamba"),
                T(
                    "A 25-minute drive up the valley to Santa Ana.",
                    "Veinticinco minutos de viaje valle arriba hasta Santa Ana.",
                ),
            ),
            _stop(
                1,
                2,
                time(8, 0),
                "walk",
                T("Walk through the agroforestry plot", "Caminata por la parcela agroforestal"),
                T(
                    "Don Manuel shows how cacao grows in the shade of fruit and native trees.",
                    "Don Manuel muestra cómo crece el cacao a la sombra de frutales y árboles nativos.",
                ),
                "don-manuel-family-farm",
            ),
            _stop(
                1,
                3,
                time(9, 0),
                "harvest",
                T("Harvest and taste fresh cacao pulp", "Cosecha y prueba de la pulpa fresca"),
                T(
                    "Choose a ripe pod, cut it open and taste the warm, sweet pulp.",
                    "Elija una mazorca madura, ábrala y pruebe la pulpa tibia y dulce.",
                ),
                "don-manuel-family-farm",
            ),
            _stop(
                1,
                4,
                time(10, 15),
                "fermentation",
                T("The fermentation boxes", "Los cajones de fermentación"),
                T(
                    "Smell and feel the beans on each of the six days of fermentation.",
                    "Huela y toque el grano en cada uno de los seis días de fermentación.",
                ),
                "don-manuel-family-farm",
            ),
            _stop(
                1,
                5,
                time(11, 15),
                "drying",
                T("Drying in the sun", "Secado al sol"),
                T(
                    "Turn the beans on the raised drying beds and learn to judge when they are ready.",
                    "Voltee el grano en las tarimas de secado y aprenda a saber cuándo está listo.",
                ),
                "don-manuel-family-farm",
            ),
            _stop(
                1,
                6,
                time(12, 30),
                "meal",
                T("Lunch with the family", "Almuerzo con la familia"),
                T(
                    "A farm lunch of river fish or chicken, yuca and fruit from the farm.",
                    "Un almuerzo de chacra con pescado de río o pollo, yuca y fruta de la finca.",
                ),
                "don-manuel-family-farm",
            ),
            _stop(
                1,
                7,
                time(14, 0),
                "roasting",
                T("Roasting over a wood fire", "Tostado a leña"),
                T("Roast, crack and winnow the beans by hand.", "Tueste, quiebre y descascare el grano a mano."),
                "don-manuel-family-farm",
            ),
            _stop(
                1,
                8,
                time(15, 0),
                "workshop",
                T("Chocolate workshop with the Warmikuna women", "Taller de chocolate con las mujeres Warmikuna"),
                T(
                    "Grind on a stone batán, temper on marble and mould your own bar.",
                    "Muela en batán de piedra, tempere sobre mármol y moldee su propia tableta.",
                ),
                "sambaray-chocolate-house",
            ),
            _stop(
                1,
                9,
                time(16, 30),
                "travel",
                T("Return to Quillabamba", "Retorno a Quillabamba"),
                T("Back at the Plaza de Armas around 17:00.", "Llegada a la Plaza de Armas hacia las 17:00."),
            ),
        ],
        "share_rules": [
            {
                "farm": "don-manuel-family-farm",
                "basis_points": 1500,
                "purpose": T(
                    "The host family's day of work and the lunch they cook",
                    "La jornada de la familia anfitriona y el almuerzo que cocina",
                ),
            },
            {
                "cooperative": "quillabamba-cacao-producers",
                "basis_points": 1000,
                "purpose": T(
                    "Quality training and the post-harvest centre", "Capacitación en calidad y el centro de poscosecha"
                ),
            },
            {
                "fund": "warmikuna-chocolate-makers",
                "basis_points": 700,
                "purpose": T(
                    "Moulds, packaging and training for the women's group",
                    "Moldes, empaques y capacitación para el grupo de mujeres",
                ),
            },
            {
                "fund": "quillabamba-water-sources",
                "basis_points": 300,
                "purpose": T(
                    "Fencing and replanting the springs above the farms",
                    "Cercado y reforestación de los manantiales sobre las chacras",
                ),
            },
        ],
        "departures": {"weekdays": [1, 3, 5], "time": time(7, 30), "capacity": 12, "closed": 2},
        "photos": [
            ("hands", T("Taste the pulp straight from the pod", "Pruebe la pulpa directo de la mazorca")),
            ("fermentation", T("Fermentation at Don Manuel's", "Fermentación en la chacra de Don Manuel")),
            ("chocolate", T("Your own bar to take home", "Su propia tableta para llevar")),
        ],
    },
    {
        "slug": "warmikuna-chocolate-cosmetics-workshop",
        "route": "quillabamba-valley",
        "title": T(
            "Chocolate and cocoa-butter cosmetics with the Warmikuna women",
            "Chocolate y cosmética de manteca de cacao con las mujeres Warmikuna",
        ),
        "summary": T(
            "An afternoon workshop in Sambaray: roast and grind cacao, temper a bar and make a cocoa-butter balm.",
            "Un taller de tarde en Sambaray: tueste y muela cacao, tempere una tableta y prepare un bálsamo de "
            "manteca de cacao.",
        ),
        "description": T(
            "The women of the Warmikuna group open their workshop for an afternoon. You roast cacao in a clay pot, "
            "grind it on a stone batán and temper your own bar on marble. Then you press cocoa butter into a lip balm "
            "scented with herbs from the valley.\n\n"
            "Women's groups like this one spread the income of the harvest through the whole community. The workshop "
            "is held in Spanish and Quechua, with an English-speaking guide.",
            "Las mujeres del grupo Warmikuna abren su taller por una tarde. Usted tuesta cacao en olla de barro, "
            "lo muele en un batán de piedra y tempera su propia tableta sobre mármol. Luego prepara un bálsamo "
            "labial de manteca de cacao perfumado con hierbas del valle.\n\n"
            "Grupos de mujeres como este reparten el ingreso de la cosecha en toda la comunidad. El taller es en "
            "español y quechua, con guía de habla inglesa.",
        ),
        "duration_days": 1,
        "duration_hours": 4,
        "difficulty": "easy",
        "languages": "es,en,qu",
        "meeting_point": MEET_QUILLABAMBA,
        "includes": lines(
            INC_GUIDE,
            INC_TRANSPORT,
            INC_TASTING,
            INC_BAR,
            T("A jar of cocoa-butter balm", "Un frasco de bálsamo de manteca de cacao"),
            INC_SHARE,
        ),
        "excludes": lines(EXC_TIPS, EXC_INSURANCE),
        "what_to_bring": lines(BRING_SUN, BRING_WATER, BRING_CASH),
        "min_group": 1,
        "max_group": 10,
        "currency": "PEN",
        "adult_price": 12000,
        "child_price": 6000,
        "is_published": True,
        "is_featured": False,
        "stops": [
            _stop(
                1,
                1,
                time(14, 0),
                "travel",
                T("Drive to Sambaray", "Viaje a Sambaray"),
                T("Twenty minutes from the Plaza de Armas.", "Veinte minutos desde la Plaza de Armas."),
            ),
            _stop(
                1,
                2,
                time(14, 30),
                "roasting",
                T("Roasting in a clay pot", "Tostado en olla de barro"),
                T("Roast and peel the beans the traditional way.", "Tueste y pele el grano a la manera tradicional."),
                "sambaray-chocolate-house",
            ),
            _stop(
                1,
                3,
                time(15, 15),
                "workshop",
                T("Grinding and tempering", "Molienda y temperado"),
                T(
                    "Grind on the batán and temper your bar on marble.",
                    "Muela en el batán y tempere su tableta sobre mármol.",
                ),
                "sambaray-chocolate-house",
            ),
            _stop(
                1,
                4,
                time(16, 15),
                "workshop",
                T("Cocoa-butter balm", "Bálsamo de manteca de cacao"),
                T("Melt, scent and pour your own balm.", "Derrita, perfume y envase su propio bálsamo."),
                "sambaray-chocolate-house",
            ),
            _stop(
                1,
                5,
                time(17, 15),
                "tasting",
                T("Tasting and the women's shop", "Degustación y la tienda de las mujeres"),
                T(
                    "Taste the group's chocolates with a cup of cacao tea.",
                    "Pruebe los chocolates del grupo con una taza de té de cascarilla.",
                ),
                "sambaray-chocolate-house",
            ),
        ],
        "share_rules": [
            {
                "fund": "warmikuna-chocolate-makers",
                "basis_points": 2500,
                "purpose": T(
                    "The women who teach the workshop and their group's equipment",
                    "Las mujeres que dictan el taller y el equipo de su grupo",
                ),
            },
            {
                "farm": "sambaray-chocolate-house",
                "basis_points": 1000,
                "purpose": T("The host family's workshop and cacao", "El taller y el cacao de la familia anfitriona"),
            },
        ],
        # A recurring schedule (admin: Departure schedules): the loader creates it and generates its departures,
        # skipping one date in its second week.
        "departures": {
            "weekdays": [2, 5, 6],
            "time": time(14, 0),
            "capacity": 10,
            "schedule": "Warmikuna association assembly: no workshop",
        },
        "photos": [
            ("chocolate", T("Tempered on marble", "Temperado sobre mármol")),
            ("hands", T("From the pod to chocolate and balm", "De la mazorca al chocolate y al bálsamo")),
        ],
    },
    {
        "slug": "convencion-cacao-coffee-route-3-days",
        "route": "convencion-valley",
        "title": T(
            "Cacao and coffee route of La Convención: 3 days, 2 eco-lodge nights",
            "Ruta del cacao y el café de La Convención: 3 días, 2 noches en ecolodges",
        ),
        "summary": T(
            "From the cacao of Echarate to the cloud-forest coffee of Huayopata, sleeping in family eco-lodges.",
            "Del cacao de Echarate al café del bosque de neblina de Huayopata, durmiendo en ecolodges familiares.",
        ),
        "description": T(
            "Three days that climb the valley with its crops. Day one is cacao in Echarate, with a night at Las "
            "Orquídeas by the river. Day two compares cacao and coffee on the drying terraces of Maranura and climbs "
            "to the cloud forest. Day three starts with birds at dawn, follows the coffee harvest and ends with a "
            "native tree you plant yourself.\n\n"
            "Local guides who know the forest's rhythms, solar-powered family lodges and cacao bought directly from "
            "the cooperative: responsible travel that enriches the trip instead of limiting it.",
            "Tres días que suben el valle junto a sus cultivos. El primero es cacao en Echarate, con noche en Las "
            "Orquídeas junto al río. El segundo compara cacao y café en los tendales de Maranura y sube al bosque de "
            "neblina. El tercero empieza con aves al amanecer, sigue la cosecha del café y termina con un árbol "
            "nativo que siembra usted mismo.\n\n"
            "Guías locales que conocen los ritmos del bosque, lodges familiares con energía solar y cacao comprado "
            "directamente a la cooperativa: viaje responsable que enriquece la experiencia en lugar de limitarla.",
        ),
        "duration_days": 3,
        "duration_hours": None,
        "difficulty": "moderate",
        "languages": "es,en",
        "meeting_point": MEET_QUILLABAMBA,
        "includes": lines(
            INC_GUIDE,
            INC_TRANSPORT,
            INC_LODGE,
            INC_MEALS,
            INC_TASTING,
            T("A native seedling planted in your name", "Un plantón nativo sembrado a su nombre"),
            INC_SHARE,
        ),
        "excludes": lines(EXC_TIPS, EXC_INSURANCE, EXC_DRINKS),
        "what_to_bring": lines(
            BRING_SHOES,
            BRING_RAIN,
            BRING_REPELLENT,
            BRING_SUN,
            BRING_WATER,
            T("A torch or head lamp", "Una linterna o linterna frontal"),
        ),
        "min_group": 2,
        "max_group": 10,
        "currency": "PEN",
        "adult_price": 145000,
        "child_price": 98000,
        "is_published": True,
        "is_featured": True,
        "stops": [
            _stop(
                1,
                1,
                time(7, 0),
                "travel",
                T("Quillabamba to Echarate", "De Quillabamba a Echarate"),
                T("One hour down the valley along the river.", "Una hora valle abajo junto al río."),
            ),
            _stop(
                1,
                2,
                time(8, 30),
                "walk",
                T("Grafting garden at Las Orquídeas", "El jardín de injertos de Las Orquídeas"),
                T(
                    "How fine-aroma varieties are grafted and shaded.",
                    "Cómo se injertan y sombrean las variedades finas de aroma.",
                ),
                "las-orquideas-echarate",
            ),
            _stop(
                1,
                3,
                time(10, 0),
                "harvest",
                T("Cacao harvest", "Cosecha de cacao"),
                T("Harvest pods and break them open with the family.", "Coseche mazorcas y ábralas con la familia."),
                "las-orquideas-echarate",
            ),
            _stop(
                1,
                4,
                time(13, 0),
                "meal",
                T("Lunch by the river", "Almuerzo junto al río"),
                T("Cooked by the Huamán family.", "Preparado por la familia Huamán."),
                "las-orquideas-echarate",
            ),
            _stop(
                1,
                5,
                time(15, 0),
                "fermentation",
                T("Fermentation and cacao tasting", "Fermentación y degustación de cacao"),
                T(
                    "Compare beans from different days of fermentation.",
                    "Compare granos de distintos días de fermentación.",
                ),
                "las-orquideas-echarate",
            ),
            _stop(
                1,
                6,
                time(19, 0),
                "lodge",
                T("Night at Las Orquídeas eco-lodge", "Noche en el ecolodge Las Orquídeas"),
                T("Dinner and a solar-powered room by the river.", "Cena y habitación con energía solar junto al río."),
                "las-orquideas-echarate",
            ),
            _stop(
                2,
                1,
                time(7, 30),
                "travel",
                T("Echarate to Maranura", "De Echarate a Maranura"),
                T("Ninety minutes up the valley.", "Noventa minutos valle arriba."),
            ),
            _stop(
                2,
                2,
                time(9, 0),
                "drying",
                T("Drying terraces: cacao and coffee", "Tendales: cacao y café"),
                T("See both beans dry side by side.", "Observe ambos granos secándose lado a lado."),
                "santa-rosa-maranura",
            ),
            _stop(
                2,
                3,
                time(11, 0),
                "roasting",
                T("Wood-fired roasting and tasting", "Tostado a leña y degustación"),
                T(
                    "Roast cacao and coffee and taste them side by side.",
                    "Tueste cacao y café y pruébelos lado a lado.",
                ),
                "santa-rosa-maranura",
            ),
            _stop(
                2,
                4,
                time(13, 0),
                "meal",
                T("Lunch in Maranura", "Almuerzo en Maranura"),
                T("With the Quispe Layme family.", "Con la familia Quispe Layme."),
                "santa-rosa-maranura",
            ),
            _stop(
                2,
                5,
                time(15, 0),
                "travel",
                T("Up to the cloud forest", "Subida al bosque de neblina"),
                T("Two hours to Huayopata at 1,680 metres.", "Dos horas hasta Huayopata, a 1.680 metros."),
            ),
            _stop(
                2,
                6,
                time(18, 30),
                "lodge",
                T("Night at Nube Verde", "Noche en Nube Verde"),
                T(
                    "Dinner with the Mamani family and a room above the clouds.",
                    "Cena con la familia Mamani y una habitación sobre las nubes.",
                ),
                "nube-verde-huayopata",
            ),
            _stop(
                3,
                1,
                time(6, 0),
                "walk",
                T("Dawn birdwatching", "Observación de aves al amanecer"),
                T(
                    "The cloud forest wakes up: tanagers, hummingbirds and, with luck, a cock-of-the-rock.",
                    "El bosque de neblina despierta: tangaras, colibríes y, con suerte, un gallito de las rocas.",
                ),
                "nube-verde-huayopata",
            ),
            _stop(
                3,
                2,
                time(8, 0),
                "harvest",
                T("Coffee harvest", "Cosecha de café"),
                T("Pick only the ripe red cherries.", "Coseche solo las cerezas rojas maduras."),
                "nube-verde-huayopata",
            ),
            _stop(
                3,
                3,
                time(10, 0),
                "tasting",
                T("Coffee cupping", "Catación de café"),
                T("Roast and cup the farm's coffee.", "Tueste y cate el café de la finca."),
                "nube-verde-huayopata",
            ),
            _stop(
                3,
                4,
                time(12, 30),
                "meal",
                T("Farewell lunch", "Almuerzo de despedida"),
                T("Trout from the river and vegetables from the garden.", "Trucha del río y verduras de la huerta."),
                "nube-verde-huayopata",
            ),
            _stop(
                3,
                5,
                time(14, 0),
                "walk",
                T("Plant a native tree", "Siembre un árbol nativo"),
                T(
                    "Plant a seedling from the community nursery and note its coordinates.",
                    "Siembre un plantón del vivero comunal y anote sus coordenadas.",
                ),
                "nube-verde-huayopata",
            ),
            _stop(
                3,
                6,
                time(16, 0),
                "travel",
                T("Return to Quillabamba", "Retorno a Quillabamba"),
                T("Arrival around 18:30.", "Llegada hacia las 18:30."),
            ),
        ],
        "share_rules": [
            {
                "cooperative": "convencion-cacao-coffee",
                "basis_points": 1500,
                "purpose": T(
                    "Processing, certification and the cooperative's guides",
                    "Procesamiento, certificación y los guías de la cooperativa",
                ),
            },
            {
                "fund": "cloud-forest-reforestation",
                "basis_points": 800,
                "purpose": T(
                    "The native seedlings you plant and their care",
                    "Los plantones nativos que usted siembra y su cuidado",
                ),
            },
            {
                "farm": "las-orquideas-echarate",
                "basis_points": 600,
                "purpose": T(
                    "Your night, meals and visit at Las Orquídeas", "Su noche, comidas y visita en Las Orquídeas"
                ),
            },
            {
                "farm": "nube-verde-huayopata",
                "basis_points": 600,
                "purpose": T("Your night, meals and visit at Nube Verde", "Su noche, comidas y visita en Nube Verde"),
            },
        ],
        "departures": {"weekdays": [0, 4], "time": time(7, 0), "capacity": 10},
        "photos": [
            ("valley", T("Climbing the valley", "Subiendo el valle")),
            ("coffee", T("Coffee from Nube Verde", "Café de Nube Verde")),
            ("lodge", T("Two nights with host families", "Dos noches con familias anfitrionas")),
        ],
    },
    {
        "slug": "huayopata-cloud-forest-coffee-day",
        "route": "convencion-valley",
        "title": T(
            "Cloud-forest coffee and a native tree of your own in Huayopata",
            "Café del bosque de neblina y su propio árbol nativo en Huayopata",
        ),
        "summary": T(
            "A day among shade-grown coffee and cloud forest: harvest, plant a native tree, roast and cup.",
            "Un día entre café bajo sombra y bosque de neblina: coseche, siembre un árbol nativo, tueste y cate.",
        ),
        "description": T(
            "Drive up from Quillabamba into the clouds to Nube Verde, where the Mamani family grows coffee under "
            "native trees. Pick ripe cherries, visit the community nursery and plant a seedling whose coordinates you "
            "take home, then roast and cup the coffee you picked.\n\n"
            "Each booking funds the reforestation of the slopes that protect the valley's water sources.",
            "Suba desde Quillabamba hasta las nubes, a Nube Verde, donde la familia Mamani cultiva café bajo árboles "
            "nativos. Coseche cerezas maduras, visite el vivero comunal y siembre un plantón cuyas coordenadas se "
            "lleva, y luego tueste y cate el café que cosechó.\n\n"
            "Cada reserva financia la reforestación de las laderas que protegen las fuentes de agua del valle.",
        ),
        "duration_days": 1,
        "duration_hours": 9,
        "difficulty": "moderate",
        "languages": "es,en",
        "meeting_point": MEET_QUILLABAMBA,
        "includes": lines(
            INC_GUIDE,
            INC_TRANSPORT,
            INC_LUNCH,
            T("Coffee roasting and cupping", "Tostado y catación de café"),
            T("A native seedling planted in your name", "Un plantón nativo sembrado a su nombre"),
            INC_SHARE,
        ),
        "excludes": lines(EXC_TIPS, EXC_INSURANCE),
        "what_to_bring": lines(BRING_SHOES, BRING_RAIN, BRING_REPELLENT, BRING_WATER),
        "min_group": 2,
        "max_group": 14,
        "currency": "PEN",
        "adult_price": 22000,
        "child_price": 11000,
        "is_published": True,
        "is_featured": False,
        "stops": [
            _stop(
                1,
                1,
                time(7, 0),
                "travel",
                T("Quillabamba to Huayopata", "De Quillabamba a Huayopata"),
                T("About 90 minutes up the valley.", "Unos 90 minutos valle arriba."),
            ),
            _stop(
                1,
                2,
                time(8, 30),
                "walk",
                T("Cloud-forest trail", "Sendero del bosque de neblina"),
                T(
                    "A gentle walk through the shade trees above the coffee.",
                    "Una caminata suave entre los árboles de sombra sobre el café.",
                ),
                "nube-verde-huayopata",
            ),
            _stop(
                1,
                3,
                time(10, 0),
                "harvest",
                T("Coffee harvest", "Cosecha de café"),
                T("Pick ripe cherries with the family.", "Coseche cerezas maduras con la familia."),
                "nube-verde-huayopata",
            ),
            _stop(
                1,
                4,
                time(11, 30),
                "walk",
                T("Nursery and tree planting", "Vivero y siembra de árboles"),
                T(
                    "Plant a native seedling on the slope above the farm.",
                    "Siembre un plantón nativo en la ladera sobre la finca.",
                ),
                "nube-verde-huayopata",
            ),
            _stop(
                1,
                5,
                time(13, 0),
                "meal",
                T("Lunch at Nube Verde", "Almuerzo en Nube Verde"),
                T("Home cooking with vegetables from the garden.", "Comida casera con verduras de la huerta."),
                "nube-verde-huayopata",
            ),
            _stop(
                1,
                6,
                time(14, 30),
                "roasting",
                T("Roasting your coffee", "Tostado de su café"),
                T("Roast in a clay pan over the fire.", "Tueste en un tiesto de barro sobre el fuego."),
                "nube-verde-huayopata",
            ),
            _stop(
                1,
                7,
                time(15, 15),
                "tasting",
                T("Cupping", "Catación"),
                T("Taste and score coffees from three farms.", "Pruebe y califique cafés de tres fincas."),
                "nube-verde-huayopata",
            ),
            _stop(
                1,
                8,
                time(16, 0),
                "travel",
                T("Return to Quillabamba", "Retorno a Quillabamba"),
                T("Arrival around 17:30.", "Llegada hacia las 17:30."),
            ),
        ],
        "share_rules": [
            {
                "fund": "cloud-forest-reforestation",
                "basis_points": 1500,
                "purpose": T("The nursery and the seedlings you plant", "El vivero y los plantones que usted siembra"),
            },
            {
                "farm": "nube-verde-huayopata",
                "basis_points": 1200,
                "purpose": T(
                    "The host family's day and the lunch they cook", "La jornada de la familia y el almuerzo que cocina"
                ),
            },
            {
                "cooperative": "convencion-cacao-coffee",
                "basis_points": 700,
                "purpose": T("Coffee quality training", "Capacitación en calidad de café"),
            },
        ],
        "departures": {"weekdays": [1, 3, 6], "time": time(7, 0), "capacity": 14, "cancelled": 3},
        "photos": [
            ("cloud_forest", T("Coffee in the clouds", "Café entre las nubes")),
            ("coffee", T("Only the ripe cherries", "Solo las cerezas maduras")),
        ],
    },
    {
        "slug": "cacao-coffee-routes-of-cusco-5-days",
        "route": "convencion-valley",
        "title": T(
            "The cacao and coffee routes of Cusco: 5 days from Cusco",
            "Las rutas del cacao y el café de Cusco: 5 días desde Cusco",
        ),
        "summary": T(
            "Over the Abra Málaga pass to Quillabamba and the Convención Valley: cacao, chocolate, coffee and "
            "cloud forest, with four nights at family farms and eco-lodges.",
            "Por el Abra Málaga hasta Quillabamba y el valle de La Convención: cacao, chocolate, café y bosque de "
            "neblina, con cuatro noches en fincas familiares y ecolodges.",
        ),
        "description": T(
            "Come to Cusco and visit so much more than Machu Picchu. This journey crosses the Abra Málaga pass and "
            "drops into the warm valleys where Cusco's cacao grows: Don Manuel's farm, the Warmikuna women's "
            "chocolate workshop, the river lodge of Las Orquídeas and the cloud-forest coffee of Huayopata.\n\n"
            "Every night is spent with a host family, and every day funds a different part of the community: the "
            "cooperatives, the women's group, reforestation and youth training.",
            "Venga a Cusco y conozca mucho más que Machu Picchu. Este viaje cruza el Abra Málaga y baja a los valles "
            "cálidos donde crece el cacao de Cusco: la chacra de Don Manuel, el taller de chocolate de las mujeres "
            "Warmikuna, el lodge ribereño de Las Orquídeas y el café del bosque de neblina de Huayopata.\n\n"
            "Cada noche la pasa con una familia anfitriona, y cada día financia una parte distinta de la comunidad: "
            "las cooperativas, el grupo de mujeres, la reforestación y la formación de jóvenes.",
        ),
        "duration_days": 5,
        "duration_hours": None,
        "difficulty": "moderate",
        "languages": "es,en",
        "meeting_point": MEET_CUSCO,
        "includes": lines(
            INC_GUIDE,
            T("Transport from and back to Cusco", "Transporte desde y hasta Cusco"),
            INC_LODGE,
            INC_MEALS,
            INC_TASTING,
            INC_BAR,
            INC_SHARE,
        ),
        "excludes": lines(
            EXC_TIPS,
            EXC_INSURANCE,
            EXC_DRINKS,
            T("Nights in Cusco before and after the tour", "Noches en Cusco antes y después del tour"),
        ),
        "what_to_bring": lines(BRING_WARM, BRING_SHOES, BRING_RAIN, BRING_REPELLENT, BRING_SUN, BRING_CASH),
        "min_group": 2,
        "max_group": 8,
        "currency": "USD",
        "adult_price": 69000,
        "child_price": 48000,
        "is_published": True,
        "is_featured": False,
        "stops": [
            _stop(
                1,
                1,
                time(5, 30),
                "travel",
                T("Cusco over the Abra Málaga pass", "De Cusco por el Abra Málaga"),
                T(
                    "From the Sacred Valley up to 4,300 metres and down into the cloud forest.",
                    "Del Valle Sagrado hasta 4.300 metros y de bajada al bosque de neblina.",
                ),
            ),
            _stop(
                1,
                2,
                time(13, 0),
                "meal",
                T("Lunch in Quillabamba", "Almuerzo en Quillabamba"),
                T("Welcome lunch in the warm valley.", "Almuerzo de bienvenida en el valle cálido."),
            ),
            _stop(
                1,
                3,
                time(16, 0),
                "walk",
                T("Evening walk among the cacao", "Caminata vespertina entre el cacao"),
                T("First walk on Don Manuel's farm.", "Primera caminata por la chacra de Don Manuel."),
                "don-manuel-family-farm",
            ),
            _stop(
                2,
                1,
                time(8, 0),
                "harvest",
                T("Harvest with Don Manuel", "Cosecha con Don Manuel"),
                T("Cut pods and taste the fresh pulp.", "Corte mazorcas y pruebe la pulpa fresca."),
                "don-manuel-family-farm",
            ),
            _stop(
                2,
                2,
                time(10, 0),
                "fermentation",
                T("Fermentation and drying", "Fermentación y secado"),
                T("The post-harvest steps that decide the flavour.", "Los pasos de poscosecha que deciden el sabor."),
                "don-manuel-family-farm",
            ),
            _stop(
                2,
                3,
                time(15, 0),
                "workshop",
                T("Warmikuna chocolate workshop", "Taller de chocolate Warmikuna"),
                T("Make your bar and a cocoa-butter balm.", "Haga su tableta y un bálsamo de manteca de cacao."),
                "sambaray-chocolate-house",
            ),
            _stop(
                3,
                1,
                time(8, 0),
                "travel",
                T("To Echarate", "Hacia Echarate"),
                T("Down the valley to the river lowlands.", "Valle abajo hasta las tierras bajas del río."),
            ),
            _stop(
                3,
                2,
                time(10, 0),
                "harvest",
                T("Grafted cacao at Las Orquídeas", "Cacao injertado en Las Orquídeas"),
                T("Grafting, pruning and shade management.", "Injertos, poda y manejo de sombra."),
                "las-orquideas-echarate",
            ),
            _stop(
                3,
                3,
                time(19, 0),
                "lodge",
                T("Night at Las Orquídeas", "Noche en Las Orquídeas"),
                T("Solar-powered rooms by the river.", "Habitaciones con energía solar junto al río."),
                "las-orquideas-echarate",
            ),
            _stop(
                4,
                1,
                time(8, 0),
                "travel",
                T("Up to Huayopata", "Subida a Huayopata"),
                T("Through Maranura into the cloud forest.", "Por Maranura hasta el bosque de neblina."),
            ),
            _stop(
                4,
                2,
                time(11, 0),
                "harvest",
                T("Coffee harvest and tree planting", "Cosecha de café y siembra de árboles"),
                T("Pick coffee and plant a native seedling.", "Coseche café y siembre un plantón nativo."),
                "nube-verde-huayopata",
            ),
            _stop(
                4,
                3,
                time(19, 0),
                "lodge",
                T("Night at Nube Verde", "Noche en Nube Verde"),
                T("Dinner above the clouds.", "Cena sobre las nubes."),
                "nube-verde-huayopata",
            ),
            _stop(
                5,
                1,
                time(7, 0),
                "tasting",
                T("Coffee cupping", "Catación de café"),
                T("A last cup before the road.", "Una última taza antes del camino."),
                "nube-verde-huayopata",
            ),
            _stop(
                5,
                2,
                time(9, 0),
                "travel",
                T("Return to Cusco", "Retorno a Cusco"),
                T("Arrival in Cusco around 17:00.", "Llegada a Cusco hacia las 17:00."),
            ),
        ],
        "share_rules": [
            {
                "cooperative": "quillabamba-cacao-producers",
                "basis_points": 800,
                "purpose": T(
                    "The cooperative that buys Don Manuel's cacao", "La cooperativa que compra el cacao de Don Manuel"
                ),
            },
            {
                "cooperative": "convencion-cacao-coffee",
                "basis_points": 800,
                "purpose": T("The cooperative of Echarate and Huayopata", "La cooperativa de Echarate y Huayopata"),
            },
            {
                "farm": "don-manuel-family-farm",
                "basis_points": 500,
                "purpose": T("Two days with Don Manuel's family", "Dos días con la familia de Don Manuel"),
            },
            {
                "fund": "warmikuna-chocolate-makers",
                "basis_points": 500,
                "purpose": T("The women's chocolate workshop", "El taller de chocolate de las mujeres"),
            },
            {
                "fund": "cloud-forest-reforestation",
                "basis_points": 500,
                "purpose": T("Native trees for the cloud forest", "Árboles nativos para el bosque de neblina"),
            },
            {
                "fund": "youth-agroforestry-training",
                "basis_points": 400,
                "purpose": T("Training young guides and farmers", "Formación de jóvenes guías y agricultores"),
            },
        ],
        "departures": {"weekdays": [2, 6], "time": time(5, 30), "capacity": 8},
        "photos": [
            ("valley", T("From the Andes to the valleys", "De los Andes a los valles")),
            ("cacao_tree", T("Cusco's cacao", "El cacao de Cusco")),
            ("coffee", T("Cusco's coffee", "El café de Cusco")),
        ],
    },
    {
        "slug": "infierno-agroforestry-cacao-day",
        "route": "madre-de-dios-rainforest",
        "title": T(
            "Agroforestry cacao with the Infierno Native Community",
            "Cacao agroforestal con la Comunidad Nativa Infierno",
        ),
        "summary": T(
            "A day from Puerto Maldonado: walk the community's agroforestry plots, visit its cacao processing plant "
            "and taste rainforest chocolate.",
            "Un día desde Puerto Maldonado: recorra las parcelas agroforestales de la comunidad, visite su planta "
            "de procesamiento de cacao y pruebe chocolate amazónico.",
        ),
        "description": T(
            "The Infierno Native Community is preparing its cacao for the international market. With a local guide "
            "you walk a family's agroforestry plot, where cacao grows with banana, copoazú and timber trees, harvest "
            "ripe pods and follow them to the community's processing plant.\n\n"
            "Learn how the association works with the Agrobosque Cooperative and Conservación Amazónica – ACCA on "
            "post-harvest quality and organic certification, and end the day tasting cacao by the river.",
            "La Comunidad Nativa Infierno está preparando su cacao para el mercado internacional. Con un guía local "
            "usted recorre la parcela agroforestal de una familia, donde el cacao crece con plátano, copoazú y árboles "
            "maderables, cosecha mazorcas maduras y las sigue hasta la planta de procesamiento de la comunidad.\n\n"
            "Conozca cómo la asociación trabaja con la Cooperativa Agrobosque y Conservación Amazónica – ACCA en la "
            "calidad de poscosecha y la certificación orgánica, y termine el día probando cacao junto al río.",
        ),
        "duration_days": 1,
        "duration_hours": 8,
        "difficulty": "easy",
        "languages": "es,en",
        "meeting_point": MEET_MALDONADO,
        "includes": lines(INC_GUIDE, INC_TRANSPORT, INC_LUNCH, INC_TASTING, INC_SHARE),
        "excludes": lines(EXC_TIPS, EXC_INSURANCE, EXC_FLIGHTS),
        "what_to_bring": lines(BRING_SHOES, BRING_REPELLENT, BRING_RAIN, BRING_WATER),
        "min_group": 2,
        "max_group": 12,
        "currency": "PEN",
        "adult_price": 26000,
        "child_price": 13000,
        "is_published": True,
        "is_featured": False,
        "stops": [
            _stop(
                1,
                1,
                time(7, 30),
                "travel",
                T("Puerto Maldonado to Infierno", "De Puerto Maldonado a Infierno"),
                T("About 45 minutes by road.", "Unos 45 minutos por carretera."),
            ),
            _stop(
                1,
                2,
                time(8, 30),
                "walk",
                T("The agroforestry plot", "La parcela agroforestal"),
                T(
                    "Cacao under the rainforest canopy, with banana and timber trees.",
                    "Cacao bajo el dosel amazónico, con plátano y árboles maderables.",
                ),
                "infierno-agroforestry-plot",
            ),
            _stop(
                1,
                3,
                time(10, 0),
                "harvest",
                T("Cacao harvest", "Cosecha de cacao"),
                T("Harvest ripe pods with the family.", "Coseche mazorcas maduras con la familia."),
                "infierno-agroforestry-plot",
            ),
            _stop(
                1,
                4,
                time(11, 15),
                "fermentation",
                T("The community processing plant", "La planta de procesamiento comunal"),
                T(
                    "Where the association ferments and dries its cacao.",
                    "Donde la asociación fermenta y seca su cacao.",
                ),
                "infierno-agroforestry-plot",
            ),
            _stop(
                1,
                5,
                time(13, 0),
                "meal",
                T("Lunch in the community", "Almuerzo en la comunidad"),
                T("Fish wrapped in leaves (patarashca) and plantain.", "Patarashca de pescado y plátano."),
                "infierno-agroforestry-plot",
            ),
            _stop(
                1,
                6,
                time(14, 30),
                "tasting",
                T("Cacao tasting by the river", "Degustación de cacao junto al río"),
                T(
                    "Taste cacao at different stages, from pulp to chocolate.",
                    "Pruebe el cacao en distintas etapas, de la pulpa al chocolate.",
                ),
                "tambopata-riverbank-lodge",
            ),
            _stop(
                1,
                7,
                time(15, 30),
                "travel",
                T("Return to Puerto Maldonado", "Retorno a Puerto Maldonado"),
                T("Arrival around 16:30.", "Llegada hacia las 16:30."),
            ),
        ],
        "share_rules": [
            {
                "cooperative": "infierno-agroforestry-association",
                "basis_points": 2000,
                "purpose": T(
                    "The association's processing plant and commercial strategy",
                    "La planta de procesamiento y la estrategia comercial de la asociación",
                ),
            },
            {
                "farm": "infierno-agroforestry-plot",
                "basis_points": 1000,
                "purpose": T("The host family's plot and lunch", "La parcela y el almuerzo de la familia anfitriona"),
            },
            {
                "fund": "youth-agroforestry-training",
                "basis_points": 500,
                "purpose": T("Training young people of the community", "Formación de jóvenes de la comunidad"),
            },
        ],
        "departures": {"weekdays": [1, 3, 5], "time": time(7, 30), "capacity": 12},
        "photos": [
            ("cacao_tree", T("Agroforestry in Infierno", "Agroforestería en Infierno")),
            ("hands", T("The harvest", "La cosecha")),
        ],
    },
    {
        "slug": "rainforest-cacao-infierno-3-days",
        "route": "madre-de-dios-rainforest",
        "title": T(
            "Rainforest cacao: 3 days with the Infierno Native Community",
            "Cacao amazónico: 3 días con la Comunidad Nativa Infierno",
        ),
        "summary": T(
            "Two nights in a riverbank lodge on the Tambopata, the cacao harvest, the community processing plant "
            "and a visit to the Agrobosque Cooperative.",
            "Dos noches en un lodge ribereño del Tambopata, la cosecha de cacao, la planta comunal de procesamiento "
            "y una visita a la Cooperativa Agrobosque.",
        ),
        "description": T(
            "Three days in the Amazon with the families of the Infierno Native Community. Arrive by boat on the "
            "Tambopata river, walk the forest at night with a local guide and spend a day following the cacao "
            "harvest from the agroforestry plots to the processing plant.\n\n"
            "On the last morning, visit the Agrobosque Cooperative, which buys the community's cacao and helps it "
            "towards organic certification and the international market, before returning to Puerto Maldonado.",
            "Tres días en la Amazonía con las familias de la Comunidad Nativa Infierno. Llegue en bote por el río "
            "Tambopata, recorra el bosque de noche con un guía local y pase un día siguiendo la cosecha de cacao de "
            "las parcelas agroforestales a la planta de procesamiento.\n\n"
            "La última mañana visite la Cooperativa Agrobosque, que compra el cacao de la comunidad y la acompaña "
            "hacia la certificación orgánica y el mercado internacional, antes de volver a Puerto Maldonado.",
        ),
        "duration_days": 3,
        "duration_hours": None,
        "difficulty": "moderate",
        "languages": "es,en",
        "meeting_point": MEET_MALDONADO,
        "includes": lines(
            INC_GUIDE,
            T("Boat and road transport", "Transporte en bote y por carretera"),
            INC_LODGE,
            INC_MEALS,
            INC_TASTING,
            INC_SHARE,
        ),
        "excludes": lines(EXC_TIPS, EXC_INSURANCE, EXC_FLIGHTS, EXC_DRINKS),
        "what_to_bring": lines(
            BRING_SHOES,
            BRING_REPELLENT,
            BRING_RAIN,
            T("Long-sleeved shirt and trousers", "Camisa de manga larga y pantalón largo"),
            T("A torch or head lamp", "Una linterna o linterna frontal"),
        ),
        "min_group": 2,
        "max_group": 10,
        "currency": "USD",
        "adult_price": 54000,
        "child_price": 38000,
        "is_published": True,
        "is_featured": True,
        "stops": [
            _stop(
                1,
                1,
                time(8, 30),
                "travel",
                T("By boat on the Tambopata", "En bote por el Tambopata"),
                T(
                    "From the port of Puerto Maldonado to the riverbank lodge.",
                    "Del puerto de Puerto Maldonado al lodge ribereño.",
                ),
            ),
            _stop(
                1,
                2,
                time(11, 0),
                "lodge",
                T("Welcome at the riverbank lodge", "Bienvenida en el lodge ribereño"),
                T("Settle into your room on stilts.", "Instálese en su habitación sobre pilotes."),
                "tambopata-riverbank-lodge",
            ),
            _stop(
                1,
                3,
                time(13, 0),
                "meal",
                T("Lunch", "Almuerzo"),
                T("Juane and fresh fruit juices.", "Juane y jugos de frutas frescas."),
                "tambopata-riverbank-lodge",
            ),
            _stop(
                1,
                4,
                time(15, 30),
                "walk",
                T("Forest walk", "Caminata por el bosque"),
                T(
                    "Giant trees, medicinal plants and the farm's agroforestry.",
                    "Árboles gigantes, plantas medicinales y la agroforestería de la finca.",
                ),
                "tambopata-riverbank-lodge",
            ),
            _stop(
                1,
                5,
                time(19, 30),
                "walk",
                T("Night walk", "Caminata nocturna"),
                T(
                    "Frogs, insects and the sounds of the forest at night.",
                    "Ranas, insectos y los sonidos del bosque de noche.",
                ),
                "tambopata-riverbank-lodge",
            ),
            _stop(
                2,
                1,
                time(7, 0),
                "harvest",
                T("Cacao harvest in the community", "Cosecha de cacao en la comunidad"),
                T("Harvest with the Durand Vargas family.", "Coseche con la familia Durand Vargas."),
                "infierno-agroforestry-plot",
            ),
            _stop(
                2,
                2,
                time(10, 0),
                "fermentation",
                T("The processing plant", "La planta de procesamiento"),
                T("Fermentation and drying at the community plant.", "Fermentación y secado en la planta comunal."),
                "infierno-agroforestry-plot",
            ),
            _stop(
                2,
                3,
                time(13, 0),
                "meal",
                T("Lunch with the family", "Almuerzo con la familia"),
                T("Patarashca and plantain.", "Patarashca y plátano."),
                "infierno-agroforestry-plot",
            ),
            _stop(
                2,
                4,
                time(15, 0),
                "workshop",
                T("Chocolate workshop", "Taller de chocolate"),
                T(
                    "Roast and grind rainforest cacao into chocolate.",
                    "Tueste y muela cacao amazónico hasta hacer chocolate.",
                ),
                "tambopata-riverbank-lodge",
            ),
            _stop(
                2,
                5,
                time(19, 0),
                "lodge",
                T("Second night at the lodge", "Segunda noche en el lodge"),
                T("Dinner by the river.", "Cena junto al río."),
                "tambopata-riverbank-lodge",
            ),
            _stop(
                3,
                1,
                time(7, 30),
                "drying",
                T("Drying beds at dawn", "Tendales al amanecer"),
                T("Spread the beans to dry before the heat of the day.", "Extienda el grano antes del calor del día."),
                "tambopata-riverbank-lodge",
            ),
            _stop(
                3,
                2,
                time(10, 0),
                "tasting",
                T("Visit the Agrobosque Cooperative", "Visita a la Cooperativa Agrobosque"),
                T(
                    "Quality control, cupping and how the cooperative sells to the international market.",
                    "Control de calidad, catación y cómo la cooperativa vende al mercado internacional.",
                ),
            ),
            _stop(
                3,
                3,
                time(13, 0),
                "travel",
                T("Return to Puerto Maldonado", "Retorno a Puerto Maldonado"),
                T("In time for afternoon flights.", "A tiempo para los vuelos de la tarde."),
            ),
        ],
        "share_rules": [
            {
                "cooperative": "infierno-agroforestry-association",
                "basis_points": 1800,
                "purpose": T(
                    "The association's plant and its path to organic certification",
                    "La planta de la asociación y su camino a la certificación orgánica",
                ),
            },
            {
                "cooperative": "agrobosque",
                "basis_points": 700,
                "purpose": T("Post-harvest technical support", "Apoyo técnico de poscosecha"),
            },
            {
                "farm": "tambopata-riverbank-lodge",
                "basis_points": 800,
                "purpose": T(
                    "Two nights and meals with the Cueva Torres family",
                    "Dos noches y comidas con la familia Cueva Torres",
                ),
            },
            {
                "fund": "youth-agroforestry-training",
                "basis_points": 500,
                "purpose": T(
                    "Training young people of the community as guides",
                    "Formación de jóvenes de la comunidad como guías",
                ),
            },
        ],
        "departures": {"weekdays": [0, 4], "time": time(8, 30), "capacity": 10, "closed": 1},
        "photos": [
            ("river", T("Arriving by river", "Llegada por el río")),
            ("cacao_pod", T("Rainforest cacao", "Cacao amazónico")),
            ("drying", T("Drying at dawn", "Secado al amanecer")),
        ],
    },
    {
        "slug": "quillabamba-market-cacao-breakfast",
        "route": "quillabamba-valley",
        "title": T(
            "Quillabamba market morning and cacao breakfast (draft)",
            "Mañana de mercado en Quillabamba y desayuno con cacao (borrador)",
        ),
        "summary": T(
            "A short morning in the town market with a cacao-and-fruit breakfast. Not on sale yet.",
            "Una mañana corta en el mercado de la ciudad con un desayuno de cacao y frutas. Aún no está a la venta.",
        ),
        "description": T(
            "A draft tour the cooperative is testing: the fruit stalls of Quillabamba's market, a breakfast of hot "
            "cacao, tamales and tropical fruit, and the cooperative's shop.",
            "Un tour en borrador que la cooperativa está probando: los puestos de fruta del mercado de Quillabamba, "
            "un desayuno de cacao caliente, tamales y fruta tropical, y la tienda de la cooperativa.",
        ),
        "duration_days": 1,
        "duration_hours": 3,
        "difficulty": "easy",
        "languages": "es",
        "meeting_point": MEET_QUILLABAMBA,
        "includes": lines(INC_GUIDE, T("Breakfast", "Desayuno"), INC_SHARE),
        "excludes": lines(EXC_TIPS),
        "what_to_bring": lines(BRING_CASH, BRING_SUN),
        "min_group": 1,
        "max_group": 8,
        "currency": "PEN",
        "adult_price": 8000,
        "child_price": 4000,
        "is_published": False,
        "is_featured": False,
        "stops": [
            _stop(
                1,
                1,
                time(7, 30),
                "walk",
                T("The market", "El mercado"),
                T("Fruit, cacao and coffee stalls.", "Puestos de fruta, cacao y café."),
            ),
            _stop(
                1,
                2,
                time(9, 0),
                "meal",
                T("Cacao breakfast", "Desayuno con cacao"),
                T("Hot cacao, tamales and fruit.", "Cacao caliente, tamales y fruta."),
            ),
        ],
        "share_rules": [
            {
                "cooperative": "quillabamba-cacao-producers",
                "basis_points": 1000,
                "purpose": T(
                    "The cooperative's shop and market stall", "La tienda y el puesto de mercado de la cooperativa"
                ),
            },
        ],
        "departures": None,
        "photos": [
            ("market", T("Quillabamba market", "Mercado de Quillabamba")),
        ],
    },
]

# Guides for departures (invented names).
GUIDES = ["Rosa Huamán", "Wilber Quispe", "Yanet Ccahuana", "Edwin Mamani", "Lucía Durand"]

# --------------------------------------------------------------------------- users

USERS = [
    {
        # Daily operations and finance: the two staff groups of cacaotours/core/roles.py, no superuser.
        "email": STAFF_EMAIL,
        "first_name": "Kallpa",
        "last_name": "Staff (demo)",
        "is_staff": True,
        "is_superuser": False,
        "groups": ["Operations", "Finance"],
        "preferred_language": "en",
        "country": "Peru",
    },
    {
        # The owner: the only superuser (user accounts, groups, settings).
        "email": OWNER_EMAIL,
        "first_name": "Domingo",
        "last_name": "Owner (demo)",
        "is_staff": True,
        "is_superuser": True,
        "preferred_language": "en",
        "country": "Peru",
    },
    {
        "email": LEADER_EMAIL,
        "first_name": "Rosa",
        "last_name": "Huamán (demo)",
        "is_staff": False,
        "is_superuser": False,
        "preferred_language": "es",
        "country": "Peru",
        "memberships": [("quillabamba-cacao-producers", "leader")],
    },
    {
        "email": TRAVELLER_EMAIL,
        "first_name": "Alex",
        "last_name": "Traveller (demo)",
        "is_staff": False,
        "is_superuser": False,
        "preferred_language": "en",
        "country": "Canada",
    },
]

# --------------------------------------------------------------------------- bookings

# Paid bookings of the demo traveller, made through the real booking flow (hold → details →
# simulated checkout → pay) so that revenue shares, journal entries, Stripe transfers and
# bank-owed shares exist for the admin. ``key`` ends up in the booking's notes as
# ``[demo:<key>]``: that marker is how a second run recognises them. ``days_ahead`` is the
# earliest departure (from today) to book; ``cancel`` cancels it afterwards with the tour's
# refund (a full refund 14+ days ahead), so refunds and transfer reversals exist too.
DEMO_BOOKINGS = [
    {
        "key": "pod-to-bar",
        "tour": "pod-to-bar-don-manuel",
        "days_ahead": 5,
        "language": "en",
        "travellers": [
            ("Alex Traveller", False, "vegetarian"),
            ("Sam Traveller", False, ""),
            ("Mia Traveller", True, ""),
        ],
        "notes": "Our daughter would love to make her own chocolate bar.",
    },
    {
        "key": "warmikuna-workshop",
        "tour": "warmikuna-chocolate-cosmetics-workshop",
        "days_ahead": 9,
        "language": "es",
        "travellers": [("Alex Traveller", False, ""), ("Lucía Ramos", False, "sin nueces")],
        "notes": "Nos interesa comprar manteca de cacao para regalar.",
    },
    {
        "key": "cusco-5-days",
        "tour": "cacao-coffee-routes-of-cusco-5-days",
        "days_ahead": 20,
        "language": "en",
        "travellers": [("Alex Traveller", False, ""), ("Sam Traveller", False, "no pork")],
        "notes": "Celebrating our anniversary on this trip.",
    },
    {
        "key": "infierno-3-days",
        "tour": "rainforest-cacao-infierno-3-days",
        "days_ahead": 30,
        "language": "en",
        "travellers": [("Alex Traveller", False, "")],
        "notes": "Arriving on the morning flight to Puerto Maldonado.",
        # What the staff pages show: a flag to resolve, an internal note.
        "flag": "Payment disputed (US$ 25.00 at risk): the traveller does not recognise the charge (demo).",
        "staff_note": "Asked by WhatsApp about a vegetarian lunch: confirmed with the lodge (demo).",
    },
    {
        "key": "huayopata-cancelled",
        "tour": "huayopata-cloud-forest-coffee-day",
        "days_ahead": 25,
        "language": "en",
        "travellers": [("Alex Traveller", False, ""), ("Sam Traveller", False, "")],
        "notes": "We may have to change our dates.",
        "cancel": "Our flights to Cusco were changed.",
    },
]
