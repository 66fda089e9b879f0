{#- URL normalisation: one SQL expression, documented step by step in _macros.yml so that
    journeys/urls.py can replicate it exactly. Every step is a plain regex or string function. -#}

{% macro url_tracking_parameter_regex() -%}
    {#- Query parameter names (after lower-casing) that only track a visit. -#}
    {{ return("utm_[^&=]*|_hsmi|_hsenc|hsctatracking|hslang|__hstc|__hssc|__hsfp|hsutk|gclid|fbclid") }}
{%- endmacro %}


{% macro email_regex() -%}
    {#- An e-mail address, also with a percent-encoded @ (%40), any case. -#}
    {{ return("(?i)[a-z0-9._%+-]+(@|%40)[a-z0-9-]+(\\.[a-z0-9-]+)*\\.[a-z]{2,}") }}
{%- endmacro %}


{% macro redact_emails(value) -%}
    {#- Replaces anything that looks like an e-mail address by the literal `redacted-email`. -#}
    {{ customer_journeys.regexp_replace_all(
        value, "'" ~ customer_journeys.email_regex() ~ "'", "'redacted-email'"
    ) }}
{%- endmacro %}


{% macro normalize_url(raw_url) -%}
    {%- set lowered -%}
        lower(nullif(trim({{ raw_url }}), ''))
    {%- endset -%}

    {#- 1. unwrap translate-proxy URLs: the original is the `u` query parameter -#}
    {%- set unwrapped -%}
        case
            when {{ customer_journeys.regexp_matches(
                lowered, "'^(https?://)?translate\\.googleusercontent\\.com/[^#]*[?&]u=[^&#]'"
            ) }}
                then {{ customer_journeys.percent_decode(
                    customer_journeys.regexp_extract_group(lowered, "'[?&]u=([^&#]*)'", 1)
                ) }}
            else {{ lowered }}
        end
    {%- endset -%}

    {#- 2. drop the fragment and the scheme -#}
    {%- set without_scheme -%}
        {{ customer_journeys.regexp_replace_all(
            customer_journeys.regexp_replace_all(unwrapped, "'#.*$'", "''"),
            "'^([a-z][a-z0-9+.-]*:)?//'", "''"
        ) }}
    {%- endset -%}

    {#- 3. host without `www.`; path without trailing slashes (root stays `/`) -#}
    {%- set host -%}
        {{ customer_journeys.regexp_replace_all(
            customer_journeys.regexp_extract_group(without_scheme, "'^([^/?]*)'", 1),
            "'^www\\.'", "''"
        ) }}
    {%- endset -%}
    {%- set path -%}
        coalesce(nullif({{ customer_journeys.regexp_replace_all(
            customer_journeys.regexp_extract_group(without_scheme, "'^[^/?]*([^?]*)'", 1),
            "'/+$'", "''"
        ) }}, ''), '/')
    {%- endset -%}

    {#- 4. query without tracking parameters and empty pieces: every piece is wrapped as
        `&piece&` so that neighbours never share a separator -#}
    {%- set query_wrapped -%}
        '&' || replace(
            {{ customer_journeys.regexp_extract_group(without_scheme, "'^[^?]*\\?(.*)$'", 1) }},
            '&', '&&'
        ) || '&'
    {%- endset -%}
    {%- set query -%}
        {{ customer_journeys.regexp_replace_all(
            customer_journeys.regexp_replace_all(
                customer_journeys.regexp_replace_all(
                    query_wrapped,
                    "'&(" ~ customer_journeys.url_tracking_parameter_regex() ~ ")(=[^&]*)?&'",
                    "''"
                ),
                "'&+'", "'&'"
            ),
            "'^&|&$'", "''"
        ) }}
    {%- endset -%}

    {#- 5. reassemble, then redact e-mail addresses -#}
    {%- set assembled -%}
        {{ host }} || {{ path }} || coalesce('?' || nullif({{ query }}, ''), '')
    {%- endset -%}
    {{ customer_journeys.redact_emails(assembled) }}
{%- endmacro %}
