"""Static vocabularies of the synthetic export: countries, page types, courses, job titles, events, emails.

Kept apart from the sampling code so that the values the SQL layer must recognise (countries, page types,
course names) can be read in one place.
"""

from __future__ import annotations

import numpy as np

# (lower-case name as HubSpot writes `IP Country`, lower-case ISO-2 code), most frequent first: the spec's
# real export has 195 distinct countries (196 values with missing).
COUNTRIES: tuple[tuple[str, str], ...] = (
    ("united states", "us"),
    ("india", "in"),
    ("germany", "de"),
    ("united kingdom", "gb"),
    ("canada", "ca"),
    ("china", "cn"),
    ("brazil", "br"),
    ("france", "fr"),
    ("spain", "es"),
    ("japan", "jp"),
    ("australia", "au"),
    ("italy", "it"),
    ("netherlands", "nl"),
    ("russia", "ru"),
    ("south korea", "kr"),
    ("singapore", "sg"),
    ("mexico", "mx"),
    ("turkey", "tr"),
    ("switzerland", "ch"),
    ("pakistan", "pk"),
    ("nigeria", "ng"),
    ("indonesia", "id"),
    ("colombia", "co"),
    ("egypt", "eg"),
    ("vietnam", "vn"),
    ("poland", "pl"),
    ("taiwan", "tw"),
    ("hong kong", "hk"),
    ("sweden", "se"),
    ("iran", "ir"),
    ("argentina", "ar"),
    ("belgium", "be"),
    ("portugal", "pt"),
    ("israel", "il"),
    ("united arab emirates", "ae"),
    ("south africa", "za"),
    ("malaysia", "my"),
    ("philippines", "ph"),
    ("bangladesh", "bd"),
    ("kenya", "ke"),
    ("greece", "gr"),
    ("austria", "at"),
    ("denmark", "dk"),
    ("norway", "no"),
    ("finland", "fi"),
    ("ireland", "ie"),
    ("czechia", "cz"),
    ("romania", "ro"),
    ("ukraine", "ua"),
    ("peru", "pe"),
    ("chile", "cl"),
    ("thailand", "th"),
    ("new zealand", "nz"),
    ("saudi arabia", "sa"),
    ("morocco", "ma"),
    ("tunisia", "tn"),
    ("hungary", "hu"),
    ("sri lanka", "lk"),
    ("nepal", "np"),
    ("ghana", "gh"),
    ("ethiopia", "et"),
    ("algeria", "dz"),
    ("andorra", "ad"),
    ("afghanistan", "af"),
    ("antigua and barbuda", "ag"),
    ("albania", "al"),
    ("armenia", "am"),
    ("angola", "ao"),
    ("azerbaijan", "az"),
    ("bosnia and herzegovina", "ba"),
    ("barbados", "bb"),
    ("burkina faso", "bf"),
    ("bulgaria", "bg"),
    ("bahrain", "bh"),
    ("burundi", "bi"),
    ("benin", "bj"),
    ("brunei", "bn"),
    ("bolivia", "bo"),
    ("bahamas", "bs"),
    ("bhutan", "bt"),
    ("botswana", "bw"),
    ("belarus", "by"),
    ("belize", "bz"),
    ("democratic republic of the congo", "cd"),
    ("central african republic", "cf"),
    ("republic of the congo", "cg"),
    ("cote d'ivoire", "ci"),
    ("cameroon", "cm"),
    ("zambia", "zm"),
    ("costa rica", "cr"),
    ("cuba", "cu"),
    ("cape verde", "cv"),
    ("cyprus", "cy"),
    ("djibouti", "dj"),
    ("dominica", "dm"),
    ("dominican republic", "do"),
    ("ecuador", "ec"),
    ("estonia", "ee"),
    ("eritrea", "er"),
    ("fiji", "fj"),
    ("micronesia", "fm"),
    ("gabon", "ga"),
    ("grenada", "gd"),
    ("georgia", "ge"),
    ("gambia", "gm"),
    ("guinea", "gn"),
    ("equatorial guinea", "gq"),
    ("zimbabwe", "zw"),
    ("guatemala", "gt"),
    ("guinea-bissau", "gw"),
    ("guyana", "gy"),
    ("honduras", "hn"),
    ("croatia", "hr"),
    ("haiti", "ht"),
    ("iraq", "iq"),
    ("iceland", "is"),
    ("jamaica", "jm"),
    ("jordan", "jo"),
    ("kyrgyzstan", "kg"),
    ("cambodia", "kh"),
    ("kiribati", "ki"),
    ("comoros", "km"),
    ("st. kitts and nevis", "kn"),
    ("north korea", "kp"),
    ("kuwait", "kw"),
    ("kazakhstan", "kz"),
    ("laos", "la"),
    ("lebanon", "lb"),
    ("st. lucia", "lc"),
    ("liechtenstein", "li"),
    ("liberia", "lr"),
    ("lesotho", "ls"),
    ("lithuania", "lt"),
    ("luxembourg", "lu"),
    ("latvia", "lv"),
    ("libya", "ly"),
    ("monaco", "mc"),
    ("moldova", "md"),
    ("montenegro", "me"),
    ("madagascar", "mg"),
    ("marshall islands", "mh"),
    ("north macedonia", "mk"),
    ("mali", "ml"),
    ("myanmar", "mm"),
    ("mongolia", "mn"),
    ("macao", "mo"),
    ("mauritania", "mr"),
    ("malta", "mt"),
    ("mauritius", "mu"),
    ("maldives", "mv"),
    ("malawi", "mw"),
    ("mozambique", "mz"),
    ("namibia", "na"),
    ("niger", "ne"),
    ("nicaragua", "ni"),
    ("nauru", "nr"),
    ("oman", "om"),
    ("panama", "pa"),
    ("papua new guinea", "pg"),
    ("puerto rico", "pr"),
    ("palau", "pw"),
    ("paraguay", "py"),
    ("qatar", "qa"),
    ("serbia", "rs"),
    ("rwanda", "rw"),
    ("solomon islands", "sb"),
    ("seychelles", "sc"),
    ("sudan", "sd"),
    ("slovenia", "si"),
    ("slovakia", "sk"),
    ("sierra leone", "sl"),
    ("san marino", "sm"),
    ("senegal", "sn"),
    ("somalia", "so"),
    ("suriname", "sr"),
    ("south sudan", "ss"),
    ("sao tome and principe", "st"),
    ("el salvador", "sv"),
    ("syria", "sy"),
    ("eswatini", "sz"),
    ("chad", "td"),
    ("togo", "tg"),
    ("tajikistan", "tj"),
    ("timor-leste", "tl"),
    ("turkmenistan", "tm"),
    ("tonga", "to"),
    ("trinidad and tobago", "tt"),
    ("tuvalu", "tv"),
    ("tanzania", "tz"),
    ("uganda", "ug"),
    ("uruguay", "uy"),
    ("uzbekistan", "uz"),
    ("vatican city", "va"),
    ("st. vincent and grenadines", "vc"),
    ("venezuela", "ve"),
)
COUNTRY_NAMES = np.array([name for name, _ in COUNTRIES], dtype=object)
COUNTRY_CODES = np.array([code for _, code in COUNTRIES], dtype=object)
_SPEC_TOP_COUNTRIES = {"us": 66_838, "in": 29_260, "de": 9_561, "gb": 9_420}
SPEC_COUNTRY_NON_NULL = 223_268


def country_base_weights() -> np.ndarray:
    """Share of each country among non-null `IP Country`: the spec's top four, a Zipf tail for the rest."""
    weights = np.zeros(len(COUNTRIES))
    top = [i for i, code in enumerate(COUNTRY_CODES) if code in _SPEC_TOP_COUNTRIES]
    for i in top:
        weights[i] = _SPEC_TOP_COUNTRIES[COUNTRY_CODES[i]] / SPEC_COUNTRY_NON_NULL
    tail = np.array([i for i in range(len(COUNTRIES)) if i not in top])
    zipf = 1.0 / (np.arange(len(tail)) + 6.0) ** 1.1
    weights[tail] = zipf / zipf.sum() * (1.0 - weights.sum())
    return weights


# The page types a journey moves through: the spec's 18 original categories in code order (code = index + 1),
# plus `unsubscribe`, which the earlier analysis' scheme had no code for.
PAGE_TYPES: tuple[str, ...] = (
    "events",
    "blog",
    "course",
    "batch",
    "yearning",
    "specialization",
    "home",
    "career",
    "forum",
    "register",
    "contact",
    "course signup",
    "climate",
    "about",
    "subscribe",
    "ambassador",
    "terms",
    "press",
    "unsubscribe",
)
PAGE = {name: i for i, name in enumerate(PAGE_TYPES)}

# Courses of the `Which of the following online courses...` field with the spec's buyer counts.
COURSES: tuple[tuple[str, int], ...] = (
    ("Deep Learning Specialization", 10_209),
    ("AI For Everyone", 2_955),
    ("Natural Language Processing", 95),
    ("TensorFlow Developer Certificate", 92),
    ("AI for Medicine", 91),
    ("TensorFlow Data and Deployment", 35),
)
SPEC_BUYERS = 13_184
SPEC_CONTACTS = 336_955

JOB_TITLES: tuple[str, ...] = (
    "Software Engineer",
    "Data Scientist",
    "Student",
    "Machine Learning Engineer",
    "Researcher",
    "Manager",
    "Executive",
    "Product Manager",
    "Consultant",
    "Data Analyst",
    "Data Engineer",
    "Professor / Teacher",
    "Business Analyst",
    "Entrepreneur",
    "Designer",
    "Marketing",
    "Sales",
    "Healthcare Professional",
    "Other",
    "Not currently working",
)
EDUCATION_LEVELS: tuple[str, ...] = (
    "High school",
    "Some college",
    "Associate's degree",
    "Bachelor's degree",
    "Master's degree",
    "Professional degree",
    "Doctorate",
)

_NAMED_EVENTS: tuple[tuple[str, str], ...] = (
    ("GANs for Good", "2020-09-30 17:00"),
    ("Heroes of NLP", "2020-06-17 16:00"),
    ("AI for Medicine Launch", "2020-04-14 17:00"),
    ("Bringing AI to Healthcare", "2020-05-27 17:00"),
    ("NLP Specialization Launch Party", "2020-06-30 17:00"),
    ("TensorFlow Data and Deployment AMA", "2020-08-12 17:00"),
    ("Breaking into AI: A Panel on Careers", "2020-07-22 17:00"),
    ("AI Ethics in Practice", "2020-11-18 17:00"),
    ("Machine Learning in Production Meetup", "2020-12-09 17:00"),
    ("Women in AI Roundtable", "2020-03-11 17:00"),
    ("AI for Climate Change", "2020-10-21 16:00"),
    ("Deep Learning Specialization 2.0 Preview", "2020-12-16 17:00"),
)
_PIE_CITIES: tuple[str, ...] = (
    "Seattle",
    "San Francisco",
    "New York",
    "Boston",
    "Austin",
    "Chicago",
    "Los Angeles",
    "Toronto",
    "Vancouver",
    "Montreal",
    "Mexico City",
    "Bogota",
    "Lima",
    "Sao Paulo",
    "Buenos Aires",
    "Santiago",
    "London",
    "Manchester",
    "Dublin",
    "Paris",
    "Lyon",
    "Berlin",
    "Munich",
    "Hamburg",
    "Amsterdam",
    "Brussels",
    "Zurich",
    "Vienna",
    "Milan",
    "Rome",
    "Madrid",
    "Barcelona",
    "Lisbon",
    "Stockholm",
    "Oslo",
    "Copenhagen",
    "Helsinki",
    "Warsaw",
    "Prague",
    "Budapest",
    "Bucharest",
    "Kyiv",
    "Istanbul",
    "Athens",
    "Tel Aviv",
    "Cairo",
    "Lagos",
    "Accra",
    "Nairobi",
    "Addis Ababa",
    "Kigali",
    "Cape Town",
    "Johannesburg",
    "Casablanca",
    "Tunis",
    "Dubai",
    "Riyadh",
    "Tehran",
    "Karachi",
    "Lahore",
    "Islamabad",
    "Delhi",
    "Mumbai",
    "Bangalore",
    "Hyderabad",
    "Chennai",
    "Pune",
    "Kolkata",
    "Ahmedabad",
    "Kathmandu",
    "Dhaka",
    "Colombo",
    "Singapore",
    "Kuala Lumpur",
    "Jakarta",
    "Bangkok",
    "Ho Chi Minh City",
    "Hanoi",
    "Manila",
    "Hong Kong",
    "Taipei",
    "Shanghai",
    "Beijing",
    "Shenzhen",
    "Seoul",
    "Tokyo",
    "Osaka",
    "Sydney",
    "Melbourne",
    "Auckland",
    "Kampala",
    "Abuja",
    "Dakar",
    "Algiers",
    "Amman",
    "Doha",
    "Baku",
    "Tbilisi",
    "Almaty",
    "Tashkent",
    "Ulaanbaatar",
    "Quito",
    "Medellin",
    "Guadalajara",
    "Monterrey",
    "Caracas",
    "Montevideo",
    "Havana",
    "Panama City",
    "San Jose",
    "Kingston",
    "Edinburgh",
)


def event_catalog() -> tuple[np.ndarray, np.ndarray]:
    """227 event names with their start minute (numpy datetime64[m]), named events first."""
    names = [name for name, _ in _NAMED_EVENTS]
    dates = [np.datetime64(when) for _, when in _NAMED_EVENTS]
    pie_start = np.datetime64("2019-09-05 18:00")
    for i, city in enumerate(_PIE_CITIES):
        for edition in ("", " #2"):
            if len(names) == 227:
                break
            names.append(f"Pie & AI: {city}{edition}")
            offset_days = (i * 37 + (150 if edition else 0)) % 480
            dates.append(pie_start + np.timedelta64(offset_days * 24 * 60, "m"))
    return np.array(names, dtype=object), np.array(dates, dtype="datetime64[m]")


# Marketing emails: a weekly newsletter (The Batch, Wednesdays) plus other campaigns. The last newsletter
# before the export is the spec's top `Last marketing email name`.
FIRST_NEWSLETTER = np.datetime64("2019-07-24 15:30")
LAST_NEWSLETTER = np.datetime64("2020-12-30 15:30")
_CAMPAIGN_TOPICS: tuple[str, ...] = (
    "Event Invite",
    "Event Reminder",
    "Course Launch",
    "Specialization Update",
    "Program Announcement",
    "Community Digest",
    "Survey",
    "Webinar Recording",
    "Enrollment Reminder",
    "Ambassador Program",
)


def email_catalog() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """230 marketing emails sorted by send minute: names, send minutes, newsletter flag."""
    weeks = (LAST_NEWSLETTER - FIRST_NEWSLETTER).astype("timedelta64[D]").astype(int) // 7 + 1
    news_dates = FIRST_NEWSLETTER + np.arange(weeks) * np.timedelta64(7 * 24 * 60, "m")
    n_campaigns = 230 - weeks
    # Campaigns on fixed, spread-out days (Tuesdays and Fridays), the last ones in the export's final days.
    campaign_days = np.datetime64("2019-08-02 14:00") + (
        np.arange(n_campaigns - 3) * (520 // (n_campaigns - 3)) * np.timedelta64(24 * 60, "m")
    )
    late = np.array(["2021-01-01 10:00", "2021-01-02 10:00", "2021-01-04 09:00"], dtype="datetime64[m]")
    campaign_dates = np.concatenate([campaign_days, late])
    campaign_names = [
        f"{str(d)[:10].replace('-', '.')} {_CAMPAIGN_TOPICS[i % len(_CAMPAIGN_TOPICS)]}"
        for i, d in enumerate(campaign_dates)
    ]
    news_names = [f"{str(d)[:10].replace('-', '.')} Newsletter" for d in news_dates]
    names = np.array(news_names + campaign_names, dtype=object)
    dates = np.concatenate([news_dates, campaign_dates]).astype("datetime64[m]")
    is_news = np.r_[np.ones(weeks, bool), np.zeros(n_campaigns, bool)]
    order = np.argsort(dates, kind="stable")
    return names[order], dates[order], is_news[order]
