"""Deterministic synthetic online-store sample: a product catalogue and user purchase histories.

What this module holds
    * A hand-written store taxonomy: twelve top-level categories, their subcategories and product
      types, each type with its own vocabulary (qualifiers, specs, features, construction details,
      colours/sizes, a use phrase) and links to "complement" types (tent -> sleeping bag, ...).
      Brands are fictional, four to six per category, a few of them spanning two categories.
    * ``generate_sample``: turns a :class:`SampleConfig` into two DataFrames in the project's generic
      dataset layout, ``items`` (item_id, title, description, brand, categories) and ``interactions``
      (user_id, item_id, timestamp), and ``write_sample``, which writes them as ``items.csv`` and
      ``interactions.csv``.

What it does not hold
    * No loading, splitting, semantic-ID building or evaluation: the rest of the library reads the
      written CSV files like any other dataset in the generic layout.
    * No real products, brands or users; every name is invented.

Each user's sequence mixes the behaviours below (probabilities are fields of :class:`SampleConfig`):
category interests (1-3 categories with Dirichlet weights), complement follow-ups after a "main"
product, brand loyalty within a category, long-tailed (Zipf-like) item popularity within a product
type, interest drift to a new category mid-sequence, and a little uniform noise. All randomness comes
from ``numpy.random.default_rng`` seeded by the config, so the same config gives byte-identical files.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "CATALOGUE",
    "Category",
    "ProductType",
    "SampleConfig",
    "Subcategory",
    "complement_types",
    "generate_sample",
    "write_sample",
]

ITEM_COLUMNS = ("item_id", "title", "description", "brand", "categories")
INTERACTION_COLUMNS = ("user_id", "item_id", "timestamp")
CATEGORY_SEPARATOR = " > "


@dataclass(frozen=True)
class SampleConfig:
    """Knobs of the synthetic sample; the defaults give ~1000 items, 2000 users, ~19k interactions."""

    seed: int = 7  # every random draw derives from this seed
    n_items: int = 1000  # catalogue size; >= 800 keeps each category at ~60-150 items (hard floor: 2/type)
    n_users: int = 2000  # one purchase sequence per user; >= 1500 for the default sample
    min_seq_len: int = 5  # shortest user history
    max_seq_len: int = 20  # longest user history
    mean_seq_len: float = 9.8  # target mean length: min + negative-binomial extra, clipped at max
    interest_count_probs: tuple[float, ...] = (0.35, 0.45, 0.20)  # P(user has 1, 2, 3 category interests)
    interest_concentration: float = 1.0  # Dirichlet alpha of a user's weights over their interests
    p_stay_category: float = 0.45  # an organic pick stays in the last item's category (if an interest)
    p_complement: float = 0.65  # each of the 1-2 picks after a main product is one of its complements
    max_complement_run: int = 2  # at most this many complement picks follow a main product
    p_brand_loyalty: float = 0.6  # pick from the brand the user first bought in that category
    zipf_exponent: float = 1.2  # item popularity within its product type ~ 1 / rank ** exponent
    type_popularity_sigma: float = 0.7  # log-normal spread of product-type popularity
    main_type_boost: float = 2.0  # main product types are this much more likely to be picked organically
    p_drift: float = 0.3  # share of users whose interest shifts to a new category mid-sequence
    drift_strength: float = 0.8  # weight the new category takes after a drift
    p_noise: float = 0.05  # a pick is a uniformly random item from the whole catalogue
    start_timestamp: int = 1_672_531_200  # 2023-01-01 00:00:00 UTC, earliest first purchase
    start_window_days: int = 540  # first purchases are spread uniformly over this many days
    gap_days: float = 4.0  # median gap between organic purchases (log-normal)
    complement_gap_hours: float = 3.0  # median gap before a complement purchase (log-normal)


# --------------------------------------------------------------------------------------------------
# Taxonomy and vocabularies
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductType:
    """A product type and the words its titles and descriptions are assembled from."""

    name: str  # e.g. "Backpacking Tent"; unique across the catalogue
    qualifiers: tuple[str, ...]  # title word(s) before the spec, e.g. "Ultralight"
    specs: tuple[str, ...]  # size/capacity before the noun, e.g. "2-Person" (may be empty)
    features: tuple[str, ...]  # selling points, e.g. "Waterproof"
    details: tuple[str, ...]  # participle phrases, e.g. "made from ripstop nylon"
    variants: tuple[str, ...]  # colour, flavour or format shown last in the title
    use: str  # participle phrase, e.g. "designed for backpacking trips"
    complements: tuple[str, ...] = ()  # names of types bought right after this one; non-empty = "main"

    @property
    def plural(self) -> bool:
        last = self.name.split()[-1]
        return last.endswith("s") and not last.endswith("ss")


@dataclass(frozen=True)
class Subcategory:
    name: str
    types: tuple[ProductType, ...]


@dataclass(frozen=True)
class Category:
    name: str
    weight: float  # share of the catalogue this category gets
    brands: tuple[str, ...]
    subcategories: tuple[Subcategory, ...]


def _words(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|") if part.strip())


def _pt(
    name: str,
    qualifiers: str,
    specs: str,
    features: str,
    details: str,
    variants: str,
    use: str,
    complements: str = "",
) -> ProductType:
    """Build a ProductType from '|'-separated word lists (keeps the vocabulary tables compact)."""
    return ProductType(
        name=name,
        qualifiers=_words(qualifiers),
        specs=_words(specs),
        features=_words(features),
        details=_words(details),
        variants=_words(variants),
        use=use,
        complements=_words(complements),
    )


def _sub(name: str, *types: ProductType) -> Subcategory:
    return Subcategory(name=name, types=types)


def _cat(name: str, weight: float, brands: str, *subcategories: Subcategory) -> Category:
    return Category(name=name, weight=weight, brands=_words(brands), subcategories=subcategories)


# fmt: off
CATALOGUE: tuple[Category, ...] = (
    _cat(
        "Electronics", 1.5, "Voltaris|Kestrel Audio|Lumio|Nordwave|Pixelon|Circuitry Co",
        _sub(
            "Audio",
            _pt("Wireless Headphones", "Noise Cancelling|Studio|Foldable|Lightweight", "Over-Ear|On-Ear",
                "Bluetooth 5.3|40-Hour Battery|Built-in Microphone|Multipoint Pairing",
                "fitted with memory foam ear cushions|built with an aluminium headband"
                "|finished in soft protein leather",
                "Black|Silver|Midnight Blue|Sand",
                "designed for commuting, travel and long listening sessions",
                "Headphone Case|USB-C Charging Cable"),
            _pt("True Wireless Earbuds", "Sport|Compact|Noise Cancelling|Low-Latency", "",
                "IPX5 Sweatproof|Wireless Charging Case|Touch Controls|30-Hour Playtime",
                "fitted with silicone ear tips|housed in a matte polycarbonate shell",
                "Black|White|Graphite|Mint", "designed for workouts, calls and everyday listening"),
            _pt("Bluetooth Speaker", "Portable|Rugged|Mini|Party", "10W|20W|40W",
                "IP67 Waterproof|12-Hour Battery|Stereo Pairing|Built-in Strap",
                "wrapped in durable fabric|built with a rubberised shell",
                "Black|Red|Teal|Stone Grey", "designed for picnics, the beach and the living room"),
            _pt("Headphone Case", "Hard Shell|Slim|Travel", "",
                "Zip Closure|Cable Pocket|Carabiner Loop",
                "moulded from EVA foam|covered in ballistic nylon",
                "Black|Grey|Navy", "designed to protect headphones in a bag or on a flight"),
        ),
        _sub(
            "Computers",
            _pt("Laptop", "Thin and Light|Performance|Everyday|Creator", "13-Inch|14-Inch|15.6-Inch|16-Inch",
                "16GB RAM|512GB SSD|Backlit Keyboard|All-Day Battery",
                "built in an aluminium unibody|built on a magnesium alloy chassis",
                "Space Grey|Silver|Black", "designed for work, study and everyday browsing",
                "Laptop Sleeve|Wireless Mouse|USB-C Hub|Laptop Stand"),
            _pt("Wireless Mouse", "Ergonomic|Silent|Compact|Vertical", "",
                "2.4GHz Receiver|Rechargeable|Bluetooth|6 Programmable Buttons",
                "finished in soft-touch plastic|fitted with textured rubber grips",
                "Black|White|Grey|Rose", "designed for office work and laptops on the go"),
            _pt("Laptop Sleeve", "Slim|Padded|Water-Resistant", "13-Inch|14-Inch|15.6-Inch|16-Inch",
                "Front Pocket|Shock-Absorbing Lining|Magnetic Flap",
                "made from neoprene|made from wool felt|made from recycled polyester",
                "Charcoal|Navy|Olive|Black", "designed to carry a laptop safely in a backpack or tote"),
            _pt("USB-C Hub", "Compact|Travel|Multiport", "6-in-1|7-in-1|10-in-1",
                "4K HDMI|100W Power Delivery|SD Card Reader|Gigabit Ethernet",
                "housed in brushed aluminium|fitted with a braided cable",
                "Space Grey|Silver", "designed to connect monitors, drives and chargers to a laptop"),
        ),
        _sub(
            "Phone Accessories",
            _pt("Phone Case", "Slim|Rugged|Clear|Wallet", "",
                "MagSafe Compatible|Drop Tested|Raised Camera Lip|Card Slot",
                "made from soft silicone|made from shock-absorbing TPU|made from vegan leather",
                "Black|Clear|Sage Green|Lavender|Navy",
                "designed to protect a smartphone from drops and scratches"),
            _pt("Power Bank", "Slim|Fast Charging|Magnetic|Compact", "5000mAh|10000mAh|20000mAh",
                "USB-C PD|Dual Output|LED Display|Built-in Cable",
                "housed in an aluminium shell|built with high-density lithium cells",
                "Black|White|Blue", "designed for charging phones while travelling"),
            _pt("USB-C Charging Cable", "Braided|Fast Charging|Right-Angle", "1m|2m|3m",
                "60W|100W|Data Sync|Tangle-Free",
                "wrapped in nylon braiding|made with reinforced connectors",
                "Black|White|Red", "designed for charging phones, tablets and laptops"),
            _pt("Screen Protector", "Tempered Glass|Privacy|Matte", "2-Pack|3-Pack",
                "Easy Install Frame|9H Hardness|Case Friendly",
                "cut from tempered glass|made from anti-glare film",
                "Clear", "designed to keep a phone screen free of scratches"),
        ),
        _sub(
            "Cameras",
            _pt("Mirrorless Camera", "Compact|Full-Frame|Vlogging|Entry-Level", "24MP|33MP|45MP",
                "4K Video|In-Body Stabilisation|Flip Screen|Weather Sealed",
                "built around a magnesium alloy body|fitted with a high-resolution viewfinder",
                "Black|Silver", "designed for travel photography and video",
                "Camera Bag|SD Memory Card|Camera Tripod"),
            _pt("Camera Bag", "Sling|Backpack|Shoulder|Compact", "",
                "Padded Dividers|Rain Cover|Quick-Access Side Zip",
                "made from waxed canvas|made from water-resistant nylon",
                "Black|Olive|Tan", "designed to carry a camera, lenses and accessories"),
            _pt("SD Memory Card", "High-Speed|Pro|Extreme", "64GB|128GB|256GB",
                "V30|UHS-II|4K Ready",
                "built to survive water, shocks and X-rays",
                "Single|2-Pack", "designed for storing photos and 4K video"),
            _pt("Camera Tripod", "Travel|Lightweight|Compact", "150cm|160cm|180cm",
                "Ball Head|Quick Release Plate|Phone Mount",
                "made from aluminium|made from carbon fibre",
                "Black|Grey", "designed for steady shots, long exposures and video"),
        ),
    ),
    _cat(
        "Kitchen", 1.25, "Copperleaf|Hearth & Hob|Brewhaus|Maison Vale|Ardent Kitchen",
        _sub(
            "Coffee & Tea",
            _pt("Espresso Machine", "Semi-Automatic|Compact|Dual Boiler|Manual", "9-Bar|15-Bar|20-Bar",
                "Steam Wand|Built-in Grinder|PID Temperature Control|Pressure Gauge",
                "built in brushed stainless steel|built on a die-cast aluminium frame",
                "Stainless Steel|Matte Black|Cream|Red",
                "designed for cafe-style espresso, cappuccino and latte at home",
                "Coffee Grinder|Milk Frother|Descaling Solution"),
            _pt("Coffee Grinder", "Conical Burr|Flat Burr|Electric|Manual", "",
                "40 Grind Settings|Digital Timer|Low-Noise Motor|Anti-Static Cup",
                "fitted with stainless steel burrs|fitted with ceramic burrs",
                "Matte Black|Brushed Steel|White",
                "designed for grinding fresh beans for espresso, filter or French press"),
            _pt("Milk Frother", "Handheld|Electric|Automatic|Induction", "",
                "Hot and Cold Foam|One-Touch Operation|Dishwasher-Safe Jug|Silent Whisk",
                "made with a stainless steel jug|lined with a non-stick coating",
                "Black|Silver|White", "designed for frothing milk for lattes, cappuccinos and hot chocolate"),
            _pt("Descaling Solution", "Universal|Natural|Eco", "500ml|1L|2-Pack",
                "Biodegradable|Safe for All Machines|Odourless Formula",
                "made with plant-based citric acid|made with lactic acid",
                "Unscented", "designed to remove limescale from espresso machines and kettles"),
            _pt("Electric Kettle", "Gooseneck|Cordless|Variable Temperature|Glass", "0.8L|1L|1.7L",
                "Keep Warm Function|Rapid Boil|Auto Shut-Off|Limescale Filter",
                "made from stainless steel|made from borosilicate glass",
                "Matte Black|Stainless Steel|Sage|White",
                "designed for tea, pour-over coffee and quick boiling"),
        ),
        _sub(
            "Cookware",
            _pt("Cast Iron Skillet", "Pre-Seasoned|Deep|Heavy-Duty", "8-Inch|10-Inch|12-Inch",
                "Oven Safe|Induction Ready|Dual Pour Spouts|Helper Handle",
                "cast from a single piece of iron|finished with vegetable-oil seasoning",
                "Black|Red|Navy", "designed for searing, frying and baking in the oven"),
            _pt("Nonstick Frying Pan", "Ceramic|Hard-Anodised|Stackable|Deep", "20cm|24cm|28cm",
                "PFOA-Free Coating|Induction Compatible|Stay-Cool Handle|Dishwasher Safe",
                "made from hard-anodised aluminium|coated in slick ceramic",
                "Graphite|Cream|Sage Green",
                "designed for eggs, pancakes and everyday cooking with little oil"),
            _pt("Dutch Oven", "Enamelled|Round|Oval", "4.5L|5.5L|6.7L",
                "Self-Basting Lid|Oven Safe to 260C|Induction Ready",
                "made from enamelled cast iron|finished with a chip-resistant glaze",
                "Cherry Red|Sea Blue|Cream|Black",
                "designed for slow-cooked stews, braises and baking bread"),
        ),
        _sub(
            "Knives & Prep",
            _pt("Chef's Knife", "Japanese|German|Forged|Damascus", "6-Inch|8-Inch|10-Inch",
                "Full Tang|Razor-Sharp Edge|Ergonomic Handle|Gift Box",
                "forged from high-carbon stainless steel|forged from 67-layer Damascus steel"
                "|fitted with a pakkawood handle",
                "Black Handle|Wood Handle|Olive Wood",
                "designed for slicing, dicing and chopping vegetables, meat and herbs",
                "Cutting Board|Knife Sharpener"),
            _pt("Cutting Board", "End-Grain|Reversible|Non-Slip|Large", "40x30cm|45x35cm|Set of 3",
                "Juice Groove|Easy-Grip Handles|Dishwasher Safe",
                "made from acacia wood|made from bamboo|made from walnut",
                "Natural|Walnut|Grey", "designed for food prep, carving and serving"),
            _pt("Knife Sharpener", "Manual|Electric|Whetstone|3-Stage", "",
                "Coarse and Fine Slots|Non-Slip Base|Angle Guide",
                "fitted with diamond abrasives|fitted with ceramic rods|cut from corundum stone",
                "Black|Grey", "designed to restore a sharp edge to kitchen knives"),
        ),
        _sub(
            "Small Appliances",
            _pt("Air Fryer", "Digital|Dual Basket|Compact|XL", "4L|5.5L|8L",
                "8 Presets|Dishwasher-Safe Basket|Viewing Window|Shake Reminder",
                "fitted with a non-stick basket|finished in brushed stainless steel",
                "Black|White|Grey", "designed for crispy fries, wings and roasted vegetables with little oil",
                "Air Fryer Liners"),
            _pt("Air Fryer Liners", "Disposable|Reusable Silicone|Perforated", "2-Pack|50-Pack|100-Pack",
                "Non-Stick|Heat Resistant to 230C|Easy Clean",
                "made from food-grade parchment|made from food-grade silicone",
                "Natural|Grey", "designed to keep air fryer baskets clean"),
            _pt("Blender", "High-Speed|Personal|Countertop|Immersion", "600W|1000W|1500W",
                "Pulse Function|To-Go Cups|Self-Cleaning|6 Speeds",
                "fitted with a BPA-free Tritan jar|fitted with stainless steel blades",
                "Black|Silver|Red", "designed for smoothies, soups, sauces and crushed ice"),
        ),
    ),
    _cat(
        "Outdoor & Camping", 1.15, "Northpeak|Trailforge|Summit & Pine|Wildmere|Ridgeline Gear",
        _sub(
            "Tents & Sleep",
            _pt("Backpacking Tent",
                "Ultralight|Freestanding|Dome|Quick-Pitch", "1-Person|2-Person|3-Person|4-Person",
                "Waterproof|Double Wall|Two Vestibules|Aluminium Poles",
                "made from ripstop nylon|made from silicone-coated nylon|made from polyester taffeta",
                "Green|Orange|Grey|Sand", "designed for backpacking trips, festivals and weekend camping",
                "Sleeping Bag|Sleeping Pad|Camping Stove|Headlamp"),
            _pt("Sleeping Bag", "Mummy|Rectangular|Down|Synthetic", "3-Season|4-Season|Summer",
                "Comfort 5C|Comfort -2C|Compression Sack|Draft Collar",
                "filled with hydrophobic down|filled with hollow-fibre insulation|made with a ripstop shell",
                "Blue|Red|Olive|Black", "designed for camping, backpacking and cold nights outdoors"),
            _pt("Sleeping Pad", "Inflatable|Self-Inflating|Foam|Ultralight", "R-Value 3|R-Value 4.5|Wide",
                "Built-in Pump|Packs Small|Quiet Fabric",
                "made from TPU-laminated nylon|made from closed-cell foam",
                "Yellow|Blue|Green", "designed for insulation and comfort under a sleeping bag"),
            _pt("Camping Pillow", "Inflatable|Compressible|Ultralight", "",
                "Brushed Cover|Packs to Fist Size|Contoured Shape",
                "covered in brushed polyester|filled with memory foam pieces",
                "Grey|Blue|Orange", "designed for restful sleep in a tent or on a long trip"),
        ),
        _sub(
            "Camp Kitchen",
            _pt("Camping Stove", "Compact|Windproof|Ultralight|Folding", "1-Burner|2-Burner",
                "Piezo Ignition|Folding Legs|Simmer Control|Carry Case",
                "made from stainless steel|made from titanium|made from anodised aluminium",
                "Silver|Green|Black", "designed for cooking meals and boiling water at camp",
                "Camping Cookset|Gas Canister"),
            _pt("Camping Cookset", "Nesting|Ultralight|Family", "2-Person|4-Person",
                "Folding Handles|Includes Mugs|Mesh Storage Bag",
                "made from hard-anodised aluminium|made from titanium|made from stainless steel",
                "Silver|Orange|Green", "designed for cooking and eating on camping trips"),
            _pt("Gas Canister", "Isobutane|All-Season|Butane-Propane", "100g|230g|450g",
                "Threaded Valve|Cold-Weather Blend|Recyclable",
                "filled with a clean-burning gas blend",
                "Blue|Orange", "designed to fuel backpacking and camping stoves"),
            _pt("Insulated Water Bottle", "Vacuum|Wide-Mouth|Leakproof|Sports", "500ml|750ml|1L",
                "Keeps Cold 24 Hours|Keeps Hot 12 Hours|Powder-Coated|Carry Loop",
                "made from double-wall stainless steel",
                "Forest Green|Slate|Sunset Orange|White", "designed for hiking, the gym and daily hydration"),
        ),
        _sub(
            "Hiking",
            _pt("Hiking Backpack", "Trekking|Daypack|Lightweight|Ventilated", "20L|35L|50L|65L",
                "Rain Cover|Hip Belt Pockets|Hydration Compatible|Adjustable Back System",
                "made from ripstop nylon|made from recycled polyester|made from Cordura fabric",
                "Black|Teal|Rust|Olive", "designed for day hikes, treks and multi-day trips",
                "Hydration Bladder|Trekking Poles"),
            _pt("Hydration Bladder", "Leakproof|Insulated|Wide-Opening", "1.5L|2L|3L",
                "Bite Valve|Quick-Disconnect Hose|BPA-Free",
                "made from food-grade TPU",
                "Blue|Clear", "designed for hands-free drinking on the trail"),
            _pt("Trekking Poles", "Collapsible|Carbon|Aluminium|Folding", "",
                "Cork Grips|Flick Locks|Shock Absorbing|Tungsten Tips",
                "made from carbon fibre|made from 7075 aluminium",
                "Black|Blue|Red", "designed for stability on steep ascents and descents"),
        ),
        _sub(
            "Lighting",
            _pt("Headlamp", "Rechargeable|Ultralight|Waterproof|Trail", "300 Lumen|450 Lumen|900 Lumen",
                "Red Light Mode|USB-C Charging|Motion Sensor|IPX4",
                "housed in lightweight ABS|fitted with an elastic headband",
                "Black|Orange|Blue", "designed for hiking, camping and running in the dark"),
            _pt("Camping Lantern", "LED|Collapsible|Solar|Rechargeable", "500 Lumen|1000 Lumen",
                "Power Bank Function|Dimmable|Hanging Hook|Water Resistant",
                "housed in a rugged ABS body",
                "Green|Black|Orange", "designed for lighting a tent or campsite at night"),
        ),
    ),
    _cat(
        "Beauty & Personal Care", 0.85, "Aurelle|Verdant Skin|Petalis|Oakmoss Grooming|Lumen & Co",
        _sub(
            "Skincare",
            _pt("Facial Cleanser", "Gentle|Foaming|Gel|Cream", "150ml|200ml",
                "Fragrance-Free|pH Balanced|For Sensitive Skin|With Niacinamide",
                "formulated with ceramides|formulated with green tea extract",
                "Unscented|Cucumber|Rose",
                "designed to remove makeup and daily grime without drying the skin",
                "Moisturiser|Vitamin C Serum"),
            _pt("Moisturiser", "Hydrating|Oil-Free|Rich|Lightweight", "50ml|100ml",
                "With Hyaluronic Acid|SPF 15|Non-Comedogenic|Vegan",
                "formulated with shea butter|formulated with squalane",
                "Unscented|Aloe|Lavender", "designed for soft, hydrated skin morning and night"),
            _pt("Vitamin C Serum", "Brightening|Antioxidant|Stabilised", "15%|20%",
                "With Vitamin E|Dropper Bottle|Dermatologist Tested",
                "formulated with pure ascorbic acid|formulated with ferulic acid",
                "30ml|50ml", "designed to brighten dull skin and even out tone"),
        ),
        _sub(
            "Hair Care",
            _pt("Shampoo", "Volumising|Moisturising|Clarifying|Anti-Dandruff", "250ml|400ml|1L",
                "Sulphate-Free|Silicone-Free|Colour Safe",
                "formulated with argan oil|formulated with tea tree oil|formulated with keratin",
                "Citrus|Coconut|Unscented|Mint", "designed for clean, healthy hair every day",
                "Conditioner|Hair Mask"),
            _pt("Conditioner", "Detangling|Moisturising|Volumising|Leave-In", "250ml|400ml",
                "Sulphate-Free|Colour Safe|Frizz Control",
                "formulated with argan oil|formulated with shea butter",
                "Citrus|Coconut|Unscented", "designed for soft, detangled and shiny hair"),
            _pt("Hair Mask", "Repairing|Deep Conditioning|Bond-Building", "200ml|300ml",
                "Weekly Treatment|For Damaged Hair|Vegan",
                "formulated with keratin|formulated with coconut oil",
                "Coconut|Almond|Unscented", "designed to repair dry, damaged or coloured hair"),
            _pt("Hair Dryer", "Ionic|Compact|Professional|Travel", "1800W|2000W|2200W",
                "Diffuser Attachment|Cool Shot Button|3 Heat Settings|Foldable Handle",
                "fitted with a ceramic heating element|finished with a tourmaline grille",
                "Black|Rose Gold|White", "designed for fast drying and smooth blowouts"),
        ),
        _sub(
            "Grooming",
            _pt("Electric Shaver", "Rotary|Foil|Wet and Dry|Travel", "",
                "60-Minute Runtime|Pop-Up Trimmer|Waterproof|USB-C Charging",
                "fitted with stainless steel blades|fitted with flexing heads",
                "Black|Silver|Navy", "designed for a close, comfortable shave at home or away",
                "Aftershave Balm"),
            _pt("Beard Trimmer", "Cordless|Precision|Waterproof", "20 Length Settings|40 Length Settings",
                "Self-Sharpening Blades|90-Minute Runtime|Travel Lock",
                "fitted with titanium-coated blades",
                "Black|Graphite", "designed for shaping and maintaining a beard",
                "Beard Oil"),
            _pt("Beard Oil", "Conditioning|Softening|Natural", "30ml|50ml",
                "Non-Greasy|With Jojoba|Vegan",
                "blended from jojoba and argan oils",
                "Cedarwood|Sandalwood|Unscented",
                "designed to soften beard hair and soothe the skin underneath"),
            _pt("Aftershave Balm", "Soothing|Alcohol-Free|Cooling", "100ml|150ml",
                "With Aloe Vera|Fast Absorbing|For Sensitive Skin",
                "formulated with aloe and witch hazel",
                "Fresh|Unscented|Cedarwood", "designed to calm the skin after shaving"),
        ),
    ),
    _cat(
        "Books", 0.8, "Larkspur Press|Harbor Lane Books|Quillstone|Bluefinch Publishing|Meridian House",
        _sub(
            "Fiction",
            _pt("Mystery Novel", "Nordic|Cosy|Psychological|Historical", "",
                "Bestseller|Award-Winning|Book Club Pick|Series Starter",
                "set in a remote fishing village|built around a locked-room puzzle"
                "|told by an unreliable narrator|set in 1920s London",
                "Paperback|Hardcover|Large Print",
                "written for readers who love twisty plots and clever detectives"),
            _pt("Fantasy Novel", "Epic|Dark|Cosy|Young Adult", "",
                "Bestseller|Award-Winning|Book 1 of a Trilogy|Includes Map",
                "set in a world of floating islands|built around a forgotten magic system"
                "|told through two rival heirs",
                "Paperback|Hardcover|Special Edition", "written for fans of sweeping adventures and magic"),
            _pt("Romance Novel", "Contemporary|Historical|Rom-Com|Small-Town", "",
                "Bestseller|Book Club Pick|Standalone|Feel-Good",
                "set in a seaside bakery|set in Regency-era Bath|told through letters between rivals",
                "Paperback|Hardcover|Large Print",
                "written for readers who want warmth, banter and a happy ending"),
        ),
        _sub(
            "Non-Fiction",
            _pt("Cookbook", "Weeknight|Vegetarian|Baking|Mediterranean", "",
                "100 Recipes|150 Recipes|Full-Colour Photos|Lay-Flat Binding",
                "written by an award-winning chef|organised by season|built around pantry staples",
                "Hardcover|Paperback|Spiral-Bound",
                "written for home cooks who want reliable everyday recipes"),
            _pt("Travel Guide", "Pocket|Complete|Budget|Illustrated", "Japan|Italy|Iceland|Portugal|Mexico",
                "Fold-Out Map|Updated Edition|Sample Itineraries|Local Tips",
                "written by local experts|packed with walking routes|organised by region",
                "Paperback|Flexibound", "written for trip planning and getting around on arrival",
                "Phrasebook|Travel Journal"),
            _pt("Phrasebook", "Pocket|Essential|Illustrated", "Japanese|Italian|Icelandic|Portuguese|Spanish",
                "Pronunciation Guide|Menu Decoder|Two-Way Dictionary",
                "organised by everyday situations|written by native speakers",
                "Paperback", "written for travellers who want to order food and ask directions"),
            _pt("Travel Journal", "Guided|Leather-Bound|Pocket", "A5|A6",
                "Prompts and Checklists|Map Pages|Elastic Closure|Ticket Pocket",
                "bound in vegan leather|printed on thick cream paper",
                "Tan|Navy|Forest Green", "made for recording trips, tickets and memories"),
            _pt("Biography", "Bestselling|Illustrated|Authorised|Definitive", "",
                "Award-Winning|Includes Photographs|New Afterword",
                "written about a pioneering aviator|written about a celebrated jazz musician"
                "|written about a Victorian scientist",
                "Paperback|Hardcover", "written for readers interested in remarkable real lives"),
        ),
        _sub(
            "Children's Books",
            _pt("Picture Book", "Bedtime|Rhyming|Lift-the-Flap|Illustrated", "Ages 2-5|Ages 3-6",
                "Sturdy Pages|Read-Aloud Favourite|Award-Winning Illustrations",
                "illustrated in bright watercolours|built around a lost teddy bear|written in gentle rhyme",
                "Hardcover|Board Book|Paperback", "made for reading aloud with young children"),
            _pt("Activity Book", "Sticker|Colouring|Puzzle|Dot-to-Dot", "Ages 4-6|Ages 6-9",
                "500 Stickers|Perforated Pages|Answer Key",
                "packed with mazes and puzzles|filled with animal scenes",
                "Paperback|Spiral-Bound", "designed to keep kids busy on rainy days and long journeys"),
            _pt("Early Reader", "Phonics|First Chapter|Beginner|Confident", "Level 1|Level 2|Level 3",
                "Set of 10 Books|Parent Notes|Large Type",
                "written with simple, repeated words|illustrated on every page",
                "Paperback|Boxed Set", "designed to help children start reading independently"),
        ),
    ),
    _cat(
        "Toys & Games", 0.9, "Brightbloc|Tumbletown|Wonderkin|Puzzleworks|Tinker & Twig",
        _sub(
            "Building & STEM",
            _pt("Building Block Set", "Creative|City|Space|Castle", "500-Piece|800-Piece|1200-Piece",
                "Compatible with Major Brands|Storage Box|Idea Booklet",
                "moulded from durable ABS plastic|packed in a sorted storage tub",
                "Classic Colours|Pastel Colours", "designed for open-ended building for ages 6 and up",
                "Building Baseplate"),
            _pt("Building Baseplate", "Large|Stackable|Double-Sided", "32x32 Studs|48x48 Studs|4-Pack",
                "Compatible with Major Brands|Snug Fit|Non-Slip",
                "moulded from durable ABS plastic",
                "Green|Grey|Blue|Sand", "designed to give models a stable base for display"),
            _pt("STEM Robot Kit", "Coding|Solar|Programmable|Beginner", "5-in-1|12-in-1",
                "App Controlled|Screen-Free Coding|Motion Sensors",
                "built with snap-fit parts and sensors",
                "Blue|Orange|White", "designed to teach kids coding and engineering basics",
                "Rechargeable Battery Pack"),
            _pt("Rechargeable Battery Pack", "AA|AAA|High-Capacity", "4-Pack|8-Pack",
                "Charger Included|1000 Cycles|Pre-Charged",
                "built with low self-discharge NiMH cells",
                "Grey|Green", "designed for toys, remotes and game controllers"),
        ),
        _sub(
            "Games & Puzzles",
            _pt("Board Game", "Strategy|Family|Cooperative|Party", "",
                "2-4 Players|2-6 Players|30-Minute Play|Award-Winning",
                "built around trading and tile-laying|built around a shared mystery"
                "|printed with illustrated cards and wooden tokens",
                "Standard Edition|Deluxe Edition", "designed for game nights with family and friends"),
            _pt("Card Game", "Party|Strategy|Quick|Family", "",
                "2-10 Players|Travel Tin|15-Minute Rounds|Ages 7+",
                "printed on linen-finish cards",
                "Standard Edition|Travel Edition", "designed for quick rounds at home or on holiday"),
            _pt("Jigsaw Puzzle",
                "Landscape|Illustrated|Gradient|Vintage Map", "500-Piece|1000-Piece|1500-Piece",
                "Poster Included|Random-Cut Pieces|Glare-Free Finish",
                "cut from thick recycled board|printed with a hand-painted scene",
                "Mountain Lake|City at Night|Botanical|Ocean",
                "designed for relaxing afternoons and family challenges",
                "Puzzle Roll-Up Mat"),
            _pt("Puzzle Roll-Up Mat", "Felt|Portable|Large", "1500-Piece|3000-Piece",
                "Inflatable Tube|Drawstring Bags|Non-Slip Surface",
                "made from soft felt",
                "Green|Grey|Black", "designed to store unfinished puzzles without breaking them"),
        ),
        _sub(
            "Outdoor Play",
            _pt("Kids Scooter", "3-Wheel|Foldable|Light-Up|Kick", "Ages 3-5|Ages 5-12",
                "Adjustable Handlebar|LED Wheels|Rear Brake|Lean-to-Steer",
                "built on an aluminium deck|built on a reinforced nylon deck",
                "Pink|Blue|Green|Black", "designed for confident first rides",
                "Kids Helmet|Knee Pad Set"),
            _pt("Kids Helmet", "Adjustable|Multi-Sport|Lightweight", "Small|Medium",
                "Dial Fit|Vented|CE Certified",
                "made with an EPS foam shell",
                "Pink|Blue|Red|Dinosaur Print", "designed for scooters, bikes and skates"),
            _pt("Knee Pad Set", "Protective|6-in-1|Adjustable", "Small|Medium",
                "Wrist Guards Included|Hard Caps|Breathable",
                "made from padded neoprene",
                "Black|Pink|Blue", "designed to protect knees, elbows and wrists from falls"),
        ),
    ),
    _cat(
        "Sports & Fitness", 0.95, "Trailforge|Apexa|Ironvale|Stridewell|Coreline",
        _sub(
            "Running",
            _pt("Running Shoes", "Cushioned|Lightweight|Trail|Stability", "Men's|Women's",
                "Breathable Mesh|Carbon Plate|Reflective Details|Grippy Outsole",
                "built on a responsive foam midsole|made with an engineered mesh upper",
                "Black|White|Volt Green|Coral|Navy", "designed for daily training, tempo runs and races",
                "Running Socks|Running Waist Belt"),
            _pt("Running Socks", "Cushioned|No-Show|Anti-Blister|Compression", "3-Pack|6-Pack",
                "Moisture-Wicking|Arch Support|Seamless Toe",
                "knitted from a merino wool blend|knitted from recycled polyester",
                "Black|White|Grey|Multicolour", "designed to keep feet dry and blister-free on long runs"),
            _pt("Running Waist Belt", "Bounce-Free|Slim|Reflective", "",
                "Fits Large Phones|Key Clip|Water-Resistant Zip",
                "made from stretch lycra",
                "Black|Neon Yellow|Blue", "designed to carry a phone, keys and gels while running"),
            _pt("GPS Running Watch", "Multisport|Lightweight|Solar|Trail", "",
                "Heart Rate Monitor|14-Day Battery|Offline Maps|Training Plans",
                "fitted with a sapphire lens|built with a fibre-reinforced case",
                "Black|Slate|White", "designed to track pace, distance and recovery",
                "Heart Rate Chest Strap"),
            _pt("Heart Rate Chest Strap", "Wireless|Dual-Band|Soft", "",
                "Bluetooth and ANT+|400-Hour Battery|Waterproof",
                "made with a soft textile strap",
                "Black|Grey", "designed for accurate heart rate data during training"),
        ),
        _sub(
            "Yoga",
            _pt("Yoga Mat", "Non-Slip|Extra Thick|Travel|Eco", "4mm|6mm|8mm",
                "Alignment Lines|Carry Strap|Sweat-Resistant",
                "made from natural tree rubber|made from TPE foam|made from cork",
                "Purple|Sage|Black|Ocean Blue|Sand", "designed for yoga, pilates and floor workouts",
                "Yoga Block|Yoga Strap"),
            _pt("Yoga Block", "Foam|Cork|Bamboo", "Single|2-Pack",
                "Bevelled Edges|Non-Slip Surface|Lightweight",
                "made from high-density EVA foam|made from natural cork",
                "Purple|Grey|Natural", "designed to support deeper stretches and balance"),
            _pt("Yoga Strap", "Cotton|Stretch|Extra Long", "1.8m|2.5m|3m",
                "D-Ring Buckle|10 Loops|Machine Washable",
                "woven from durable cotton webbing",
                "Purple|Black|Teal", "designed to extend reach and improve flexibility"),
        ),
        _sub(
            "Strength Training",
            _pt("Adjustable Dumbbells", "Quick-Change|Compact|Cast Iron", "24kg|32kg|40kg",
                "15 Weight Settings|Storage Tray|Dial Selector",
                "made with steel plates and moulded handles",
                "Black|Grey", "designed for full-body strength training at home",
                "Weight Bench|Workout Gloves"),
            _pt("Weight Bench", "Adjustable|Foldable|Flat|Incline", "",
                "300kg Capacity|7 Back Positions|Leg Holder|Transport Wheels",
                "built on a steel frame|upholstered in thick foam",
                "Black|Red", "designed for presses, rows and core work"),
            _pt("Workout Gloves", "Padded|Half-Finger|Ventilated", "",
                "Wrist Wrap|Anti-Slip Palm|Breathable",
                "made from synthetic leather and mesh",
                "Black|Grey|Pink", "designed to protect hands during lifting and pull-ups"),
            _pt("Resistance Bands", "Fabric|Latex-Free|Loop|Long", "Set of 3|Set of 5",
                "Carry Bag|Exercise Guide|Door Anchor",
                "made from natural latex|made from woven fabric",
                "Multicolour|Pastel|Black", "designed for mobility work, warm-ups and strength training"),
        ),
    ),
    _cat(
        "Home Office", 0.9, "Deskwell|Lumio|Ergomade|Paperlane|Stackform",
        _sub(
            "Office Furniture",
            _pt("Standing Desk", "Electric|Dual-Motor|Corner|Compact", "120x60cm|140x70cm|160x80cm",
                "Memory Presets|Anti-Collision|Cable Tray|Quiet Motor",
                "built on a steel frame with a laminate top|built with a solid bamboo top",
                "Oak|Walnut|White|Black",
                "designed for switching between sitting and standing through the day",
                "Monitor Arm|Desk Mat|Cable Management Tray"),
            _pt("Office Chair", "Ergonomic|Mesh|High-Back|Task", "",
                "Adjustable Lumbar Support|4D Armrests|Headrest|Tilt Lock",
                "made with breathable mesh|upholstered in soft fabric",
                "Black|Grey|Blue", "designed for comfortable all-day sitting",
                "Lumbar Support Cushion"),
            _pt("Monitor Arm", "Single|Dual|Gas Spring|Heavy-Duty", "13-27 Inch|17-32 Inch",
                "VESA 75/100|Clamp and Grommet Mount|Cable Management",
                "made from aluminium|made from powder-coated steel",
                "Black|Silver|White", "designed to free up desk space and position screens at eye level"),
            _pt("Lumbar Support Cushion", "Memory Foam|Ergonomic|Cooling Gel", "",
                "Adjustable Strap|Washable Cover|Breathable Mesh",
                "made from high-density memory foam",
                "Black|Grey", "designed to support the lower back while sitting"),
        ),
        _sub(
            "Desk Accessories",
            _pt("Desk Mat", "Large|Leather|Felt|Extended", "80x40cm|90x45cm|120x60cm",
                "Waterproof|Non-Slip Base|Stitched Edges",
                "made from vegan leather|made from wool felt",
                "Black|Grey|Brown|Navy", "designed to protect the desk and glide a mouse smoothly"),
            _pt("Laptop Stand", "Adjustable|Foldable|Ergonomic|Vertical", "10-17 Inch",
                "Ventilated|Height Adjustable|Non-Slip Pads",
                "made from aluminium alloy",
                "Silver|Space Grey|Black", "designed to raise a laptop screen to eye level"),
            _pt("Cable Management Tray", "Under-Desk|Clamp-On|Mesh", "Single|Set of 2",
                "No-Drill Install|Holds Power Strips|Cable Ties Included",
                "made from powder-coated steel",
                "Black|White", "designed to keep cables and chargers off the floor"),
            _pt("Desk Lamp", "LED|Architect|Dimmable|Clamp", "",
                "USB Charging Port|5 Colour Temperatures|Touch Control|Memory Function",
                "made from aluminium|finished in brushed brass",
                "Black|White|Silver|Brass", "designed for reading and focused work"),
        ),
        _sub(
            "Stationery",
            _pt("Notebook", "Dotted|Lined|Hardcover|Spiral", "A5|A4|B5",
                "120gsm Paper|Numbered Pages|Elastic Band|Pen Loop",
                "bound in vegan leather|printed on acid-free paper",
                "Black|Sage|Terracotta|Navy", "designed for bullet journaling, notes and sketching"),
            _pt("Gel Pen Set", "Fine Point|Retractable|Quick-Dry", "0.5mm|12-Pack|24-Pack",
                "Smooth Ink|Comfort Grip|Smudge-Free",
                "filled with archival pigment ink",
                "Black|Assorted Colours|Blue", "designed for note-taking, planners and everyday writing"),
            _pt("Weekly Planner", "Undated|Academic|Minimalist", "A5|A4",
                "Habit Tracker|Monthly Overviews|Ribbon Markers",
                "bound in linen cloth|printed on thick cream paper",
                "Blush|Black|Sage|Navy", "designed to organise weekly goals and appointments"),
        ),
    ),
    _cat(
        "Pet Supplies", 0.9, "Pawsome|Tailwind Pets|Barkley & Co|Whiskerwood|Furlong",
        _sub(
            "Dogs",
            _pt("Dry Dog Food", "Grain-Free|Adult|Puppy|Senior", "2kg|6kg|12kg",
                "High Protein|No Artificial Colours|With Glucosamine|Single Protein",
                "made with real meat as the first ingredient|made with wholesome grains and vegetables",
                "Chicken|Salmon|Lamb", "designed for complete, balanced daily nutrition",
                "Dog Bowl|Dog Leash|Dog Treats"),
            _pt("Dog Bowl", "Stainless Steel|Slow Feeder|Elevated|Non-Slip", "Small|Medium|Large",
                "Dishwasher Safe|Rubber Base|Double Bowl",
                "made from food-grade stainless steel|made from BPA-free plastic|made from glazed ceramic",
                "Silver|Blue|Grey|Pink", "designed for mealtimes without mess"),
            _pt("Dog Leash", "Reflective|Retractable|Rope|Hands-Free", "1.5m|2m|5m",
                "Padded Handle|Swivel Clip|Traffic Handle",
                "made from braided nylon rope|made from waterproof webbing",
                "Black|Red|Blue|Orange", "designed for daily walks and training"),
            _pt("Dog Treats", "Training|Dental|Natural|Freeze-Dried", "200g|500g",
                "Single Ingredient|Low Calorie|Grain-Free",
                "made from single-source protein|baked in small batches",
                "Beef|Chicken|Duck", "designed for rewards and training sessions"),
        ),
        _sub(
            "Cats",
            _pt("Clumping Cat Litter", "Unscented|Low-Dust|Natural|Multi-Cat", "5kg|10kg|14kg",
                "Odour Control|99% Dust-Free|Flushable",
                "made from bentonite clay|made from tofu fibres|made from pine",
                "Unscented|Lavender|Fresh Linen", "designed for easy scooping and odour control",
                "Litter Box"),
            _pt("Litter Box", "Hooded|Top-Entry|Self-Cleaning|Open", "Large|XL",
                "Carbon Filter|Swing Door|High Sides",
                "made from durable polypropylene",
                "Grey|White|Beige", "designed to keep litter contained and odours down"),
            _pt("Cat Tree", "Multi-Level|Compact|Modern|Wall-Mounted", "80cm|120cm|160cm",
                "Sisal Scratching Posts|Hammock|Condo|Dangling Toys",
                "covered in plush fabric|made from engineered wood",
                "Beige|Grey|Dark Grey", "designed for climbing, scratching and napping",
                "Cat Toy Set"),
            _pt("Cat Toy Set", "Interactive|Catnip|Feather", "10-Piece|20-Piece",
                "Feather Wand|Crinkle Balls|Catnip Mice",
                "made from natural feathers and wool",
                "Multicolour|Pastel", "designed to keep indoor cats active and curious"),
        ),
        _sub(
            "Aquarium",
            _pt("Aquarium Tank Kit", "Starter|Nano|Curved|Planted", "20L|35L|60L|100L",
                "LED Lighting|Glass Lid|Silent Pump",
                "made from clear low-iron glass",
                "Black|White", "designed for keeping tropical or coldwater fish",
                "Aquarium Filter|Aquarium Heater|Fish Food"),
            _pt("Aquarium Filter", "Internal|Hang-On|Canister|Sponge", "Up to 60L|Up to 150L",
                "Adjustable Flow|Bio Media|Quiet Motor",
                "built with multi-stage filter media",
                "Black|Grey", "designed for clear, healthy aquarium water"),
            _pt("Aquarium Heater", "Adjustable|Submersible|Compact", "25W|50W|100W",
                "Auto Shut-Off|LED Indicator|Shatterproof",
                "made from quartz glass",
                "Black|Clear", "designed to keep tropical fish at a stable temperature"),
            _pt("Fish Food", "Tropical|Goldfish|Sinking|Colour-Enhancing", "50g|100g|250g",
                "Does Not Cloud Water|Vitamin Enriched|Floating",
                "made with krill and spirulina",
                "Flakes|Granules|Pellets", "designed for complete daily nutrition for aquarium fish"),
        ),
    ),
    _cat(
        "Garden & Patio", 0.8, "Greenthumb|Fernhill|Patio Lane|Rootwise|Wildmere",
        _sub(
            "Watering",
            _pt("Garden Hose", "Expandable|Kink-Free|Heavy-Duty|Lightweight", "15m|25m|30m",
                "Brass Fittings|UV Resistant|Easy Storage",
                "made from reinforced PVC|made from natural rubber",
                "Green|Grey|Blue", "designed for watering gardens and washing cars",
                "Hose Nozzle|Hose Reel"),
            _pt("Hose Nozzle", "Multi-Pattern|Heavy-Duty|Thumb Control", "8-Pattern|10-Pattern",
                "Shut-Off Valve|Non-Slip Grip|Frost Resistant",
                "made from zinc alloy",
                "Green|Black|Orange", "designed for everything from a gentle shower to a jet spray"),
            _pt("Hose Reel", "Wall-Mounted|Mobile|Retractable", "Holds 30m|Holds 50m",
                "Crank Handle|Wheels|Leader Hose",
                "made from powder-coated steel",
                "Green|Grey|Black", "designed to keep a hose tidy and kink-free"),
        ),
        _sub(
            "Planting",
            _pt("Raised Garden Bed", "Galvanised|Cedar|Modular|Elevated", "120x60cm|180x90cm|240x120cm",
                "Open Base|Tool-Free Assembly|Drainage Holes",
                "made from galvanised steel|made from cedar wood",
                "Silver|Natural|Olive", "designed for growing vegetables and herbs",
                "Potting Soil|Seed Starter Kit"),
            _pt("Potting Soil", "Organic|Peat-Free|Multi-Purpose|Vegetable", "20L|40L|60L",
                "Slow-Release Feed|Moisture Retaining|Added Perlite",
                "made from composted bark and coir",
                "Single Bag|Twin Pack", "designed for containers, raised beds and borders"),
            _pt("Seed Starter Kit", "Self-Watering|Heated|Windowsill", "40-Cell|72-Cell",
                "Humidity Dome|Grow Light|Reusable Trays",
                "made from durable recycled plastic",
                "Black|Green", "designed for germinating seeds indoors"),
            _pt("Pruning Shears", "Bypass|Anvil|Ratchet|Ergonomic", "",
                "Safety Lock|SK5 Steel Blade|Sap Groove",
                "made with hardened steel blades",
                "Red|Green|Orange", "designed for cutting stems and branches cleanly"),
        ),
        _sub(
            "Outdoor Living",
            _pt("Gas Grill", "Portable|Freestanding|Compact", "2-Burner|3-Burner|4-Burner",
                "Side Burner|Built-in Thermometer|Cast Iron Grates|Folding Side Tables",
                "made from powder-coated steel|made from stainless steel",
                "Black|Stainless Steel|Red", "designed for weekend barbecues and outdoor cooking",
                "Grill Cover|BBQ Tool Set"),
            _pt("Grill Cover", "Heavy-Duty|Waterproof|Fitted", "Small|Medium|Large",
                "UV Resistant|Air Vents|Velcro Straps",
                "made from 600D polyester",
                "Black|Grey", "designed to protect a barbecue from rain and sun"),
            _pt("BBQ Tool Set", "Stainless Steel|Heavy-Duty|Deluxe", "5-Piece|10-Piece|20-Piece",
                "Storage Case|Spatula and Tongs|Grill Brush",
                "made from stainless steel",
                "Silver|Black", "designed for flipping, turning and serving grilled food"),
            _pt("Outdoor String Lights", "Solar|Weatherproof|Shatterproof|Vintage", "10m|15m|30m",
                "Edison Bulbs|Dimmable|Timer|Remote Control",
                "made with shatterproof bulbs",
                "Warm White|Multicolour", "designed for patios, gardens and evenings outside"),
        ),
    ),
    _cat(
        "Home & Bedding", 0.85, "Maison Vale|Dreamweave|Linenhaus|Cosyloft|Hearthstone",
        _sub(
            "Bedding",
            _pt("Memory Foam Mattress",
                "Hybrid|Cooling|Medium-Firm|Orthopedic", "Single|Double|King|Super King",
                "Pocket Springs|Breathable Cover|100-Night Trial|CertiPUR Foam",
                "made with gel-infused memory foam|made with layered support foam",
                "White|Grey", "designed for supportive, undisturbed sleep",
                "Mattress Protector|Bed Sheet Set|Bed Pillow"),
            _pt("Mattress Protector", "Waterproof|Quilted|Cooling", "Single|Double|King",
                "Deep Pocket|Noiseless|Machine Washable",
                "made from breathable cotton terry",
                "White|Grey", "designed to protect a mattress from spills and allergens"),
            _pt("Bed Sheet Set", "Egyptian Cotton|Linen|Bamboo|Percale", "Single|Double|King",
                "400 Thread Count|Deep Pocket|Includes Pillowcases",
                "woven from long-staple cotton|woven from stonewashed linen",
                "White|Sage|Dusty Pink|Charcoal|Oatmeal", "designed for cool, soft nights"),
            _pt("Bed Pillow", "Memory Foam|Down Alternative|Adjustable|Cooling", "Standard|King|2-Pack",
                "Hypoallergenic|Washable Cover|Side Sleeper",
                "filled with shredded memory foam|filled with hollow-fibre",
                "White|Grey", "designed for neck support and comfort"),
            _pt("Duvet", "All-Season|Lightweight|Winter", "4.5 Tog|10.5 Tog|13.5 Tog",
                "Hypoallergenic|Box Stitched|Corner Tabs",
                "filled with duck feather and down|filled with microfibre",
                "Single|Double|King", "designed for warm, comfortable sleep"),
        ),
        _sub(
            "Bath",
            _pt("Bath Towel Set", "Luxury|Quick-Dry|Waffle|Organic", "4-Piece|6-Piece|8-Piece",
                "600 GSM|Hotel Quality|Highly Absorbent",
                "woven from Turkish cotton|woven from organic cotton",
                "White|Grey|Sage|Navy|Blush", "designed for soft, fast drying after every shower",
                "Bath Mat"),
            _pt("Bath Mat", "Memory Foam|Diatomite|Non-Slip|Chenille", "50x80cm|60x90cm",
                "Quick Dry|Machine Washable|Rubber Backing",
                "made from memory foam|made from diatomaceous earth",
                "Grey|White|Sage|Navy", "designed to keep bathroom floors dry and safe"),
            _pt("Shower Curtain", "Waterproof|Linen-Look|Waffle|Printed", "180x180cm|180x200cm",
                "Hooks Included|Weighted Hem|Mildew Resistant",
                "made from polyester fabric",
                "White|Grey|Botanical Print|Navy",
                "designed to keep water in the shower and style the bathroom"),
        ),
        _sub(
            "Decor",
            _pt("Throw Blanket", "Chunky Knit|Fleece|Sherpa|Waffle", "130x170cm|150x200cm",
                "Machine Washable|Fringed Edges|Reversible",
                "made from soft acrylic|made from cotton",
                "Cream|Grey|Mustard|Terracotta", "designed for cosy evenings on the sofa"),
            _pt("Scented Candle", "Soy Wax|Three-Wick|Travel Tin|Luxury", "200g|400g",
                "50-Hour Burn|Cotton Wick|Vegan",
                "hand-poured with essential oils",
                "Fig and Cedar|Sea Salt|Lavender|Vanilla", "designed to create a calm, cosy atmosphere"),
        ),
    ),
    _cat(
        "Automotive", 0.8, "Roadmate|Torqline|Gearbolt|Motorvue",
        _sub(
            "Car Care",
            _pt("Car Shampoo", "pH Neutral|Snow Foam|Wash and Wax|Waterless", "500ml|1L|5L",
                "Streak-Free|Safe on Wax|Concentrated",
                "made with biodegradable surfactants",
                "Cherry|Citrus|Unscented", "designed for a safe, swirl-free wash",
                "Microfibre Towel Set|Wash Mitt"),
            _pt("Microfibre Towel Set", "Plush|Drying|Edgeless", "6-Pack|12-Pack",
                "Lint-Free|Scratch-Free|Machine Washable",
                "made from 500 GSM microfibre",
                "Grey|Blue|Yellow", "designed for drying and buffing paintwork"),
            _pt("Wash Mitt", "Chenille|Lambswool|Microfibre", "Single|2-Pack",
                "Elastic Cuff|Scratch-Free|Machine Washable",
                "made from deep-pile fibres",
                "Blue|Grey|Green", "designed to lift dirt gently from car paint"),
            _pt("Car Wax", "Carnauba|Ceramic|Spray|Paste", "200g|500ml",
                "Long-Lasting Shine|Water Beading|Applicator Included",
                "made with Brazilian carnauba|made with silica ceramic resin",
                "Single|Twin Pack", "designed to protect paint and add gloss"),
        ),
        _sub(
            "Car Electronics",
            _pt("Dash Cam", "Front and Rear|Compact|Night Vision|Wide-Angle", "1080p|1440p|4K",
                "Parking Mode|GPS Logging|Wi-Fi App|Loop Recording",
                "fitted with a wide-angle glass lens",
                "Black", "designed to record the road and protect drivers after incidents",
                "SD Memory Card|Hardwire Kit"),
            _pt("Hardwire Kit", "Low-Voltage|Fuse Tap|Universal", "Mini USB|USB-C",
                "Parking Mode Support|Low Battery Cut-Off",
                "built with an add-a-fuse adapter",
                "Black", "designed to power a dash cam directly from the fuse box"),
            _pt("Car Phone Mount", "Magnetic|Vent|Dashboard|Wireless Charging", "",
                "360 Rotation|One-Hand Operation|15W Fast Charge",
                "made from aluminium and silicone",
                "Black|Silver", "designed for navigation and hands-free calls"),
            _pt("Seat Cover Set", "Waterproof|Universal|Leatherette|Mesh", "Front Pair|Full Set",
                "Airbag Compatible|Easy Fit|Machine Washable",
                "made from neoprene|made from faux leather",
                "Black|Grey|Beige", "designed to protect seats from wear and spills"),
        ),
        _sub(
            "Tools & Emergency",
            _pt("Tyre Inflator", "Cordless|Portable|Digital|12V", "120 PSI|150 PSI",
                "Auto Shut-Off|LED Light|Preset Pressure",
                "built with a metal cylinder compressor",
                "Black|Orange", "designed to top up car, bike and ball pressures"),
            _pt("Jump Starter", "Portable|Lithium|Heavy-Duty", "1000A|2000A|3000A",
                "Power Bank Function|LED Torch|Smart Clamps",
                "built with a lithium battery pack",
                "Black|Yellow|Red", "designed to start a flat battery without another car"),
            _pt("Tyre Pressure Gauge", "Digital|Dial|Pencil", "0-100 PSI|0-150 PSI",
                "Backlit Display|Bleed Valve|Auto Shut-Off",
                "made with a brass chuck",
                "Black|Silver", "designed for accurate tyre pressure checks"),
        ),
    ),
)
# fmt: on


def complement_types() -> dict[str, tuple[str, ...]]:
    """Main product type name -> names of its complement types (types without complements are left out)."""
    return {row.ptype.name: row.ptype.complements for row in _type_rows() if row.ptype.complements}


# --------------------------------------------------------------------------------------------------
# Catalogue generation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TypeRow:
    category: int  # index into CATALOGUE
    subcategory: Subcategory
    ptype: ProductType


@dataclass(frozen=True)
class _Parts:
    """The randomly drawn words of one item, shared by its title and description."""

    qualifier: str
    spec: str
    features: tuple[str, ...]
    variant: str
    detail: str


@dataclass(frozen=True)
class _Index:
    """Integer lookups over the generated catalogue used by the user simulation (row = item index)."""

    item_cat: np.ndarray
    item_type: np.ndarray
    item_brand: np.ndarray
    item_pop: np.ndarray  # within-type popularity weight (Zipf by a random rank)
    type_cat: np.ndarray
    type_weight: np.ndarray  # organic pick weight of a type within its category
    type_items: tuple[np.ndarray, ...]
    cat_items: tuple[np.ndarray, ...]
    cat_types: tuple[np.ndarray, ...]
    complements: tuple[np.ndarray, ...]  # complement type indices per type
    type_brand_items: dict[tuple[int, int], np.ndarray]
    cat_brand_items: dict[tuple[int, int], np.ndarray]
    cat_weight: np.ndarray


def _type_rows() -> list[_TypeRow]:
    rows: list[_TypeRow] = []
    for ci, cat in enumerate(CATALOGUE):
        for sub in cat.subcategories:
            rows += [_TypeRow(ci, sub, pt) for pt in sub.types]
    names = [row.ptype.name for row in rows]
    if len(set(names)) != len(names):
        raise ValueError("product type names must be unique")
    known = set(names)
    for row in rows:
        missing = [c for c in row.ptype.complements if c not in known]
        if missing:
            raise ValueError(f"{row.ptype.name}: unknown complement types {missing}")
    return rows


def _brand_names() -> list[str]:
    return list(dict.fromkeys(brand for cat in CATALOGUE for brand in cat.brands))


def _draw(weights: np.ndarray, rng: np.random.Generator) -> int:
    """Index drawn with probability proportional to ``weights`` (non-negative, positive sum)."""
    cumulative = np.cumsum(weights)
    position = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(position, len(weights) - 1)


def _choice(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def _allocate(total: int, weights: np.ndarray, minimum: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts >= ``minimum``, the rest proportional to ``weights``."""
    minimum = np.asarray(minimum, dtype=np.int64)
    rest = total - int(minimum.sum())
    if rest < 0:
        raise ValueError(f"cannot split {total} into parts of at least {minimum.tolist()}")
    share = rest * np.asarray(weights, dtype=float) / float(np.sum(weights))
    parts = np.floor(share).astype(np.int64)
    order = np.argsort(-(share - parts), kind="stable")
    parts[order[: rest - int(parts.sum())]] += 1
    return minimum + parts


def _draw_parts(ptype: ProductType, rng: np.random.Generator) -> _Parts:
    qualifier = _choice(ptype.qualifiers, rng)
    features = [f for f in ptype.features if f != qualifier]
    order = rng.permutation(len(features))
    return _Parts(
        qualifier=qualifier,
        spec=_choice(ptype.specs, rng) if ptype.specs else "",
        features=tuple(features[i] for i in order[:3]),
        variant=_choice(ptype.variants, rng),
        detail=_choice(ptype.details, rng),
    )


def _title(brand: str, ptype: ProductType, parts: _Parts) -> str:
    head = " ".join(word for word in (brand, parts.qualifier, parts.spec, ptype.name) if word)
    return f"{head}, {parts.features[0]}, {parts.variant}"


def _unique_title(
    brand: str, ptype: ProductType, taken: set[str], rng: np.random.Generator, tries: int = 50
) -> tuple[str, _Parts]:
    """Draw title words until the title is new; after ``tries`` collisions add a model number."""
    parts = _draw_parts(ptype, rng)
    title = _title(brand, ptype, parts)
    for _ in range(tries):
        if title not in taken:
            return title, parts
        parts = _draw_parts(ptype, rng)
        title = _title(brand, ptype, parts)
    while title in taken:
        title = f"{_title(brand, ptype, parts)}, Model {int(rng.integers(100, 1000))}"
    return title, parts


def _join_list(words: tuple[str, ...]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _description(brand: str, row: _TypeRow, parts: _Parts, rng: np.random.Generator) -> str:
    """One to three sentences: what it is and is for, its features, and one extra line."""
    ptype = row.ptype
    det, verb, pronoun = ("These", "are", "They offer") if ptype.plural else ("This", "is", "It offers")
    name = f"{parts.qualifier} {ptype.name}"
    if rng.random() < 0.5:
        sentences = [f"{det} {name} {verb} {parts.detail} and {ptype.use}."]
    else:
        use = ptype.use[0].upper() + ptype.use[1:]
        sentences = [f"{use}, {det.lower()} {name} from {brand} {verb} {parts.detail}."]
    if rng.random() < 0.85:
        n_features = min(len(parts.features), int(rng.integers(2, 4)))
        listed = _join_list(parts.features[:n_features])
        opener = ("Features include", "Highlights:", pronoun)[int(rng.integers(3))]
        sentences.append(f"{opener} {listed}.")
    if rng.random() < 0.6:
        extras = [
            f"Part of the {brand} {row.subcategory.name} range.",
            f"Available in {parts.variant}.",
            f"A popular choice in our {row.subcategory.name} collection.",
        ]
        if ptype.complements:
            order = rng.permutation(len(ptype.complements))[:2]
            extras.append(f"Often bought with: {_join_list(tuple(ptype.complements[i] for i in order))}.")
        sentences.append(extras[int(rng.integers(len(extras)))])
    return " ".join(sentences)


def _build_catalogue(config: SampleConfig, rng: np.random.Generator) -> tuple[pd.DataFrame, _Index]:
    rows = _type_rows()
    brands = _brand_names()
    brand_index = {name: i for i, name in enumerate(brands)}
    type_ids = {row.ptype.name: t for t, row in enumerate(rows)}
    n_types = len(rows)
    cat_weight = np.array([cat.weight for cat in CATALOGUE])
    types_per_cat = np.bincount([row.category for row in rows], minlength=len(CATALOGUE))
    cat_counts = _allocate(config.n_items, cat_weight, 2 * types_per_cat)

    is_main = np.array([bool(row.ptype.complements) for row in rows])
    type_weight = rng.lognormal(0.0, config.type_popularity_sigma, size=n_types)
    type_weight *= np.where(is_main, config.main_type_boost, 1.0)

    taken: set[str] = set()
    records: list[dict[str, object]] = []
    for ci, cat in enumerate(CATALOGUE):
        cat_type_ids = [t for t, row in enumerate(rows) if row.category == ci]
        type_counts = _allocate(
            int(cat_counts[ci]), rng.gamma(4.0, size=len(cat_type_ids)), np.full(len(cat_type_ids), 2)
        )
        brand_weight = rng.dirichlet(np.full(len(cat.brands), 3.0))
        for t, count in zip(cat_type_ids, type_counts, strict=True):
            row = rows[t]
            ranks = rng.permutation(int(count))
            path = CATEGORY_SEPARATOR.join((cat.name, row.subcategory.name, row.ptype.name))
            for k in range(int(count)):
                brand = cat.brands[_draw(brand_weight, rng)]
                title, parts = _unique_title(brand, row.ptype, taken, rng)
                taken.add(title)
                records.append(
                    {
                        "title": title,
                        "description": _description(brand, row, parts, rng),
                        "brand": brand,
                        "categories": path,
                        "_cat": ci,
                        "_type": t,
                        "_brand": brand_index[brand],
                        "_pop": 1.0 / float(ranks[k] + 1) ** config.zipf_exponent,
                    }
                )

    # Shuffle so that item ids carry no information about the category or type.
    records = [records[i] for i in rng.permutation(len(records))]
    width = max(4, len(str(len(records))))
    items = pd.DataFrame(records)
    items.insert(0, "item_id", [f"I{i + 1:0{width}d}" for i in range(len(records))])

    item_cat = items["_cat"].to_numpy(np.int64)
    item_type = items["_type"].to_numpy(np.int64)
    item_brand = items["_brand"].to_numpy(np.int64)
    type_brand: dict[tuple[int, int], list[int]] = {}
    cat_brand: dict[tuple[int, int], list[int]] = {}
    triples = zip(item_cat.tolist(), item_type.tolist(), item_brand.tolist(), strict=True)
    for i, (c, t, b) in enumerate(triples):
        type_brand.setdefault((t, b), []).append(i)
        cat_brand.setdefault((c, b), []).append(i)
    index = _Index(
        item_cat=item_cat,
        item_type=item_type,
        item_brand=item_brand,
        item_pop=items["_pop"].to_numpy(float),
        type_cat=np.array([row.category for row in rows], dtype=np.int64),
        type_weight=type_weight,
        type_items=tuple(np.flatnonzero(item_type == t) for t in range(n_types)),
        cat_items=tuple(np.flatnonzero(item_cat == c) for c in range(len(CATALOGUE))),
        cat_types=tuple(
            np.array([t for t, row in enumerate(rows) if row.category == c], dtype=np.int64)
            for c in range(len(CATALOGUE))
        ),
        complements=tuple(np.array([type_ids[c] for c in r.ptype.complements], dtype=np.int64) for r in rows),
        type_brand_items={key: np.array(v, dtype=np.int64) for key, v in type_brand.items()},
        cat_brand_items={key: np.array(v, dtype=np.int64) for key, v in cat_brand.items()},
        cat_weight=cat_weight,
    )
    return items.loc[:, list(ITEM_COLUMNS)].copy(), index


# --------------------------------------------------------------------------------------------------
# User simulation
# --------------------------------------------------------------------------------------------------


def _sequence_lengths(config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """min + negative-binomial extra (dispersion 2, so a longish tail), clipped at max."""
    extra_mean = config.mean_seq_len - config.min_seq_len
    if extra_mean <= 0:
        return np.full(config.n_users, config.min_seq_len, dtype=np.int64)
    dispersion = 2.0
    extra = rng.negative_binomial(dispersion, dispersion / (dispersion + extra_mean), size=config.n_users)
    return np.minimum(config.min_seq_len + extra, config.max_seq_len).astype(np.int64)


def _pick_from(
    candidates: np.ndarray | None, bought: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> int | None:
    """A not-yet-bought candidate drawn by weight, or None when every candidate was bought."""
    if candidates is None:
        return None
    available = candidates[~bought[candidates]]
    if available.size == 0:
        return None
    return int(available[_draw(weights[available], rng)])


def _pick_in_type(
    index: _Index,
    ptype: int,
    bought: np.ndarray,
    brand_pref: dict[int, int],
    config: SampleConfig,
    rng: np.random.Generator,
    keep_type: bool,
) -> int:
    """An item of type ``ptype``, from the user's brand in that category with p_brand_loyalty.

    A loyal pick may fall back to another type of the same brand and category unless ``keep_type``.
    """
    cat = int(index.type_cat[ptype])
    brand = brand_pref.get(cat)
    pools: list[np.ndarray | None] = []
    if brand is not None and rng.random() < config.p_brand_loyalty:
        pools.append(index.type_brand_items.get((ptype, brand)))
        if not keep_type:
            pools.append(index.cat_brand_items.get((cat, brand)))
    pools += [index.type_items[ptype], index.cat_items[cat], np.arange(bought.size)]
    for pool in pools:
        item = _pick_from(pool, bought, index.item_pop, rng)
        if item is not None:
            return item
    raise ValueError("user bought every item in the catalogue")


def _initial_interests(index: _Index, config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    n_cats = index.cat_weight.size
    n_interests = 1 + _draw(np.asarray(config.interest_count_probs, dtype=float), rng)
    cats = rng.choice(n_cats, size=n_interests, replace=False, p=index.cat_weight / index.cat_weight.sum())
    interest = np.zeros(n_cats)
    interest[cats] = rng.dirichlet(np.full(n_interests, config.interest_concentration))
    return interest


def _drift(interest: np.ndarray, index: _Index, config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """Shift most of the interest mass to a category the user had no interest in."""
    fresh = index.cat_weight * (interest == 0)
    if fresh.sum() == 0:
        return interest
    shifted = interest * (1.0 - config.drift_strength)
    shifted[_draw(fresh, rng)] += config.drift_strength
    return shifted


def _simulate_user(
    index: _Index, config: SampleConfig, length: int, rng: np.random.Generator
) -> tuple[list[int], list[bool]]:
    """One user's item indices in purchase order, and whether each was a complement follow-up."""
    bought = np.zeros(index.item_cat.size, dtype=bool)
    bought_types = np.zeros(index.type_cat.size, dtype=bool)
    interest = _initial_interests(index, config, rng)
    drift_at = int(rng.integers(2, length - 1)) if length >= 4 and rng.random() < config.p_drift else -1
    brand_pref: dict[int, int] = {}  # category -> brand of the user's first purchase there
    items: list[int] = []
    follow_ups: list[bool] = []
    pending, anchor, last_cat = 0, -1, -1
    for step in range(length):
        if step == drift_at:
            interest = _drift(interest, index, config, rng)
            pending = 0
        complement = pending > 0 and rng.random() < config.p_complement
        if complement:
            options = index.complements[anchor]
            weights = index.type_weight[options] * np.where(bought_types[options], 0.2, 1.0)
            ptype = int(options[_draw(weights, rng)])
            item = _pick_in_type(index, ptype, bought, brand_pref, config, rng, keep_type=True)
            pending -= 1
        else:
            pending = 0
            if rng.random() < config.p_noise:
                item = int(rng.choice(np.flatnonzero(~bought)))
            else:
                stay = last_cat >= 0 and interest[last_cat] > 0 and rng.random() < config.p_stay_category
                cat = last_cat if stay else _draw(interest, rng)
                cat_types = index.cat_types[cat]
                ptype = int(cat_types[_draw(index.type_weight[cat_types], rng)])
                item = _pick_in_type(index, ptype, bought, brand_pref, config, rng, keep_type=False)
            item_type = int(index.item_type[item])
            if index.complements[item_type].size:
                pending, anchor = 1 + int(rng.integers(config.max_complement_run)), item_type
        bought[item] = True
        bought_types[index.item_type[item]] = True
        last_cat = int(index.item_cat[item])
        brand_pref.setdefault(last_cat, int(index.item_brand[item]))
        items.append(item)
        follow_ups.append(complement)
    return items, follow_ups


def _timestamps(follow_ups: list[bool], config: SampleConfig, rng: np.random.Generator) -> np.ndarray:
    """Strictly increasing unix seconds: days between organic purchases, hours before follow-ups."""
    n = len(follow_ups)
    start = config.start_timestamp + int(rng.integers(config.start_window_days * 86_400))
    organic = rng.lognormal(math.log(config.gap_days * 86_400), 1.0, size=n)
    quick = rng.lognormal(math.log(config.complement_gap_hours * 3_600), 1.0, size=n)
    gaps = np.maximum(np.rint(np.where(follow_ups, quick, organic)), 60).astype(np.int64)
    gaps[0] = 0
    return start + np.cumsum(gaps)


def _simulate_users(
    items: pd.DataFrame,
    index: _Index,
    config: SampleConfig,
    rng: np.random.Generator,
) -> pd.DataFrame:
    lengths = _sequence_lengths(config, rng)
    width = max(4, len(str(config.n_users)))
    item_ids = items["item_id"].to_numpy()
    user_col: list[str] = []
    item_col: list[str] = []
    time_col: list[np.ndarray] = []
    for u in range(config.n_users):
        seq, follow_ups = _simulate_user(index, config, int(lengths[u]), rng)
        user_col += [f"U{u + 1:0{width}d}"] * len(seq)
        item_col += item_ids[seq].tolist()
        time_col.append(_timestamps(follow_ups, config, rng))
    return pd.DataFrame(
        {"user_id": user_col, "item_id": item_col, "timestamp": np.concatenate(time_col).astype(np.int64)}
    )


# --------------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------------


def _validate(config: SampleConfig) -> None:
    n_types = len(_type_rows())
    if config.n_items < 2 * n_types:
        raise ValueError(f"n_items must be at least {2 * n_types} (two items per product type)")
    if config.n_users < 1:
        raise ValueError("n_users must be positive")
    if not 1 <= config.min_seq_len <= config.max_seq_len <= config.n_items:
        raise ValueError("need 1 <= min_seq_len <= max_seq_len <= n_items")
    if config.max_complement_run < 1:
        raise ValueError("max_complement_run must be at least 1")
    probabilities = {
        "p_stay_category": config.p_stay_category,
        "p_complement": config.p_complement,
        "p_brand_loyalty": config.p_brand_loyalty,
        "p_drift": config.p_drift,
        "drift_strength": config.drift_strength,
        "p_noise": config.p_noise,
    }
    for name, value in probabilities.items():
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must be within [0, 1], got {value}")
    counts = np.asarray(config.interest_count_probs, dtype=float)
    if counts.size == 0 or counts.size > len(CATALOGUE) or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("interest_count_probs must be non-negative weights for 1..k interests")


def generate_sample(config: SampleConfig = SampleConfig()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """items, interactions

    ``items`` has columns item_id, title, description, brand, categories (sorted by item_id);
    ``interactions`` has user_id, item_id, timestamp (sorted by user, then strictly increasing time).
    """
    _validate(config)
    catalogue_seed, user_seed = np.random.SeedSequence(config.seed).spawn(2)
    items, index = _build_catalogue(config, np.random.default_rng(catalogue_seed))
    interactions = _simulate_users(items, index, config, np.random.default_rng(user_seed))
    return items, interactions


def _write_csv_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_sample(out_dir: str | Path, config: SampleConfig = SampleConfig()) -> dict:
    """Writes items.csv and interactions.csv (atomically: write to a temp name in the same folder then
    os.replace), returns a small summary dict {items, users, interactions, categories}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    items, interactions = generate_sample(config)
    _write_csv_atomic(items, out / "items.csv")
    _write_csv_atomic(interactions, out / "interactions.csv")
    top_level = items["categories"].str.split(CATEGORY_SEPARATOR, regex=False).str[0]
    return {
        "items": len(items),
        "users": int(interactions["user_id"].nunique()),
        "interactions": len(interactions),
        "categories": int(top_level.nunique()),
    }
